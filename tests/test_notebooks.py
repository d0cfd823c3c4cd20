"""Every notebook runs as one test, as a Colab user runs it: "Run all" (hidden, slow and cuda cells too) in a fresh
virtual environment holding only what the notebooks' install cell installs, each notebook alone in an empty
folder, with IN_TEST=1 to keep the work short (`tools/colab_check.py`). This is the only place CI runs them.

    python -m pytest tests/test_notebooks.py -k 11_runs --colab-venv /tmp/colabvenv   # reuse an environment
    python -m pytest tests/test_notebooks.py --flags cuda                               # leave the GPU visible
"""
import sys
from pathlib import Path
import pytest

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT/'tools'))
import colab_check

@pytest.fixture(scope='session')
def kernels(request, tmp_path_factory):
    "One environment for the session (in `--colab-venv`, if given), and a kernel spec that runs it"
    venv = request.config.getoption('colab_venv') or tmp_path_factory.mktemp('colab')/'venv'
    py = colab_check.make_env(Path(venv))
    gpu = 'cuda' in request.config.getoption('flags').split()
    return colab_check.kernel_specs(py, tmp_path_factory.mktemp('kernels'), gpu=gpu)

@pytest.mark.timeout(1200)
@pytest.mark.parametrize('nb', colab_check.notebooks(), ids=lambda p: p.stem)
def test_notebook(nb, kernels):
    r = colab_check.run_notebook(nb, kernels)
    assert r['ok'], f"{nb.name} stops after {r['seconds']:.0f} s in a clean runtime: {r['error']}\n{r['traceback']}"
