"""Make top-level modules unimportable, as on a machine that does not have them: imported with `REFUSE_MODULES`
set (space-separated names, e.g. `triton`), it puts a finder first on `sys.meta_path` that raises
`ModuleNotFoundError` for them and their submodules, as Python does for a package that is not installed.

GitHub's CI installs torch's CPU build, which brings no Triton; this machine's CUDA build does. The notebooks'
environment (`tools/colab_check.py`) loads this module at start-up through a `.pth` file, and `tests/test_cells.py`
runs the library with it, so that a Triton-only import fails here as it would there.

    REFUSE_MODULES=triton python -c "import refuse_modules, spiking_sae.fast"   # with tools/ on sys.path
"""

import os, sys
from importlib.abc import MetaPathFinder

REFUSED = frozenset(os.environ.get('REFUSE_MODULES', '').split())


class Refuse(MetaPathFinder):
    "A finder that answers every import of a refused module as a missing one"

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} (refused: REFUSE_MODULES)", name=name)
        return None


def refuse(names) -> bool:
    "Refuse `names` in this process from now on; False if one of them is already imported (too late to refuse)"
    names = frozenset(names)
    if not names:
        return True
    if any(m.partition('.')[0] in names for m in sys.modules):
        return False
    sys.meta_path.insert(0, Refuse(names))
    return True


if REFUSED and not refuse(REFUSED):
    raise ImportError(f"REFUSE_MODULES={' '.join(sorted(REFUSED))}: already imported before refuse_modules ran")
