"""The Colab check: every notebook runs top to bottom ("Run all", hidden, slow and cuda cells included) in a fresh
virtual environment holding only what the notebooks' install cell installs, each alone in an empty folder, on a
CPU. `tools/colab_check.py` does the work; this runs it on all notebooks."""
import sys
from pathlib import Path
import pytest

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT/'tools'))
import colab_check

@pytest.mark.timeout(3600)
def test_colab_check_every_notebook_runs_in_a_clean_cpu_runtime(tmp_path):
    results = colab_check.main(['--out', str(tmp_path/'colab.json')])
    assert [r['notebook'] for r in results] == [p.name for p in colab_check.notebooks()]
    failed = {r['notebook']: r['error'] for r in results if not r['ok']}
    assert not failed, f"{len(failed)} of {len(results)} notebooks stop in a clean runtime: {failed}"
