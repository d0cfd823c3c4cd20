"""ruff over the library, hubconf, tools and tests (ruff.toml: 120 columns; pycodestyle and pyflakes), less the
one thing nbdev writes itself: the first line of each module's `__all__`, which nbdev wraps at 120 columns and then
prefixes with `__all__ = `. A finding in spiking_sae/ is fixed in the notebook its `# %%` line names.

    python tools/lint.py        # prints the findings; exit status 1 if there are any"""

import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
PATHS = ('spiking_sae', 'hubconf.py', 'tools', 'tests')


def generated(finding: dict) -> bool:
    "Whether `finding` is a long first line of an `__all__`, which nbdev wrote"
    if Path(finding['filename']).parent.name != 'spiking_sae' or finding['code'] != 'E501':
        return False
    lines, row = Path(finding['filename']).read_text().split('\n'), finding['location']['row'] - 1
    return lines[row].startswith('__all__ = [') and row > 0 and lines[row - 1] == '# %% auto #0'


def findings() -> list:
    "ruff's findings, those nbdev makes left out"
    out = subprocess.run(
        [sys.executable, '-m', 'ruff', 'check', '--output-format', 'json', *PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"ruff failed: {out.stderr}")
    return [f for f in json.loads(out.stdout) if not generated(f)]


if __name__ == '__main__':
    found = findings()
    for f in found:
        name = Path(f['filename']).relative_to(ROOT)
        print(f"{name}:{f['location']['row']}:{f['location']['column']}: {f['code']} {f['message']}")
    print(f"ruff: {len(found)} findings" if found else "ruff: clean")
    sys.exit(1 if found else 0)
