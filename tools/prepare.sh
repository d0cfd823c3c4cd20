#!/usr/bin/env bash
# What `nbdev_prepare` does, for this repository: its README step (`nbdev_readme`) needs Quarto, so the README is
# made by tools/make_readme.py instead. Run it before committing; CI (tests/test_sync.py) fails when it was not.
#   bash tools/prepare.sh          # export, clean, links, README, ruff (tools/lint.py), then the quick checks
#   bash tools/prepare.sh --full   # ... then the whole test suite, notebooks included (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
nbdev_export
nbdev_clean
python tools/repo_urls.py
python tools/make_readme.py
python tools/lint.py
if [ "${1:-}" = "--full" ]; then python -m pytest; else python -m pytest -q tests/test_sync.py tests/test_package.py; fi
