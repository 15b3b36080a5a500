#!/usr/bin/env bash
# Regenerate requirements-lock.txt, the exact environment the committed tables are made in (Linux x86_64, CPython 3.11),
# from pyproject.toml (the package and its [dev] extra), with the hash of every file. uv keeps the versions already in
# the lock unless pyproject.toml no longer admits them; `--upgrade` moves every package to its newest release.
#   tools/make_lock.sh [--upgrade]
# uv itself: pip install uv (it is a tool for the maintainers; installing from the lock needs only pip).
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile pyproject.toml --extra dev --generate-hashes --no-annotate --python-version 3.11.7 \
   --python-platform x86_64-manylinux_2_28 --custom-compile-command "tools/make_lock.sh" \
   -o requirements-lock.txt "$@"
