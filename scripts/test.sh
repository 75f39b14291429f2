#!/usr/bin/env bash
# Run every check that CI runs: `tox -m ci` (the suite on several Pythons, with
# SQLite and with PostgreSQL + Redis, then ruff, mypy and the docs build).
#
# tox lives in .test-venv so that nothing is installed into the system Python.
# Extra arguments go to tox, e.g. `scripts/test.sh -e py311-sqlite`.
set -euo pipefail

cd "$(dirname "$0")/.."

# pyenv's shims run only the versions it selects: select every
# installed CPython 3.10 to 3.13 so that tox finds python3.10 ... python3.13.
if command -v pyenv >/dev/null 2>&1; then
    versions=$(pyenv version-name)
    for version in $(pyenv versions --bare); do
        case $version in
            3.1[0-3].*) versions="$versions:$version" ;;
        esac
    done
    export PYENV_VERSION=$versions
fi

# uv, which tox-uv uses, must take the installed interpreters, never download one.
export UV_PYTHON_DOWNLOADS=never

if [ ! -x .test-venv/bin/tox ]; then
    python3 -m venv .test-venv
    .test-venv/bin/python -m pip install --quiet tox
fi

if [ $# -eq 0 ]; then
    set -- -m ci
fi
exec .test-venv/bin/tox "$@"
