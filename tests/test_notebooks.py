"Every notebook in nbs/ runs as one test, exactly as `nbdev_test` runs it (cells flagged notest/slow/cuda skipped)."
from pathlib import Path
import pytest
import nbdev.test as nbt
from nbdev.config import get_config

CFG = get_config(path=Path(__file__).parent.parent)
NBS = sorted(p for p in CFG.path('nbs_path').glob('*.ipynb') if not p.name.startswith('_'))

@pytest.mark.timeout(900)
@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_notebook(nb, request):
    ok, secs = nbt.test_nb(nb, skip_flags=CFG.tst_flags.split(), force_flags=request.config.getoption('flags').split())
    assert ok, f"{nb.name} failed after {secs:.0f}s: its traceback is in the captured stderr above"
