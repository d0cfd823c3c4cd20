"""Make top-level modules unimportable, as on a machine that does not have them: imported with `REFUSE_MODULES`
set (space-separated names, e.g. `triton`), it puts `None` in `sys.modules` for each, Python's own way to block an
import. `import triton` then raises `ModuleNotFoundError` and `importlib.util.find_spec('triton')` returns `None`,
as for a package that is not installed (a finder that raised would break `find_spec`, which torch and our notebooks
use to ask whether Triton is there).

GitHub's CI installs torch's CPU build, which brings no Triton; this machine's CUDA build does. The notebooks'
environment (`tools/colab_check.py`) loads this module at start-up through a `.pth` file, and `tests/test_cells.py`
runs the library with it, so that a Triton-only import fails here as it would there.

    REFUSE_MODULES=triton python -c "import refuse_modules, spiking_sae.fast"   # with tools/ on sys.path
"""

import os, sys

REFUSED = frozenset(os.environ.get('REFUSE_MODULES', '').split())


def refuse(names) -> bool:
    "Refuse `names` in this process from now on; False if one of them is already imported (too late to refuse)"
    names = frozenset(names)
    if any(m.partition('.')[0] in names and sys.modules[m] is not None for m in list(sys.modules)):
        return False
    for n in names:
        sys.modules[n] = None  # `import n` and `import n.sub` now raise ModuleNotFoundError; find_spec(n) is None
    return True


if REFUSED and not refuse(REFUSED):
    raise ImportError(f"REFUSE_MODULES={' '.join(sorted(REFUSED))}: already imported before refuse_modules ran")
