"""Every notebook runs as one test, as a user of a plain Jupyter runs it after its install cell: "Run all" (hidden,
slow and cuda cells too) in a fresh virtual environment holding a kernel and what the notebooks' install cell
installs (and seeing this Python's packages: its torch), each notebook alone in an empty folder, with IN_TEST=1 to
keep the work short, two at a time (`--jobs`) (`tools/colab_check.py`), with `triton` unimportable (`--refuse`) as on
GitHub's runners, whose CPU torch brings none. This is the only place CI runs them.
`--colab` adds what Colab has besides.

    python -m pytest tests/test_notebooks.py -k 12_runs --colab-venv /tmp/colabvenv   # reuse an environment
    python -m pytest tests/test_notebooks.py --flags cuda                               # leave the GPU visible
"""

import sys
from pathlib import Path
import pytest

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.notebooks  # `python -m pytest -m "not notebooks"` leaves them out
sys.path.insert(0, str(ROOT / 'tools'))
import colab_check


@pytest.fixture(scope='session')
def kernels(request, tmp_path_factory):
    "One environment for the session (in `--colab-venv`, if given), and a kernel spec that runs it"
    venv = request.config.getoption('colab_venv') or tmp_path_factory.mktemp('colab') / 'venv'
    py = colab_check.make_env(Path(venv), colab=request.config.getoption('colab'))
    request.config.notebooks_torch = colab_check.torch_of(py)  # said at the end (conftest.py)
    gpu, jobs = 'cuda' in request.config.getoption('flags').split(), request.config.getoption('jobs')
    refuse = request.config.getoption('refuse').split()  # as on GitHub's runners: no triton
    return colab_check.kernel_specs(py, tmp_path_factory.mktemp('kernels'), gpu=gpu, jobs=jobs, refuse=refuse), jobs


# started first, so that the two at a time end together (the slowest in `--durations`; a stale list costs only time)
LONGEST = ('20_distributed', '12_runs', '24_own_data', '08_analysis')


@pytest.fixture(scope='session')
def runs(request, kernels) -> dict:
    "The notebooks this session tests, started `--jobs` at a time when the first of them is tested"
    wanted = {item.callspec.params['nb'] for item in request.session.items if item.originalname == 'test_notebook'}
    order = sorted((p for p in colab_check.notebooks() if p in wanted), key=lambda p: p.stem not in LONGEST)
    runs = colab_check.run_notebooks(order, *kernels)
    yield runs
    colab_check.stop(runs)  # those not started, after `-x` or Ctrl-C


@pytest.mark.timeout(1800)
@pytest.mark.parametrize('nb', colab_check.notebooks(), ids=lambda p: p.stem)
def test_notebook(nb, runs, request):
    r = runs[nb.name].result()  # its test's duration includes the wait for its turn; its own time goes to the summary
    request.config.notebook_seconds = {**getattr(request.config, 'notebook_seconds', {}), nb.stem: r['seconds']}
    assert r['ok'], f"{nb.name} stops after {r['seconds']:.0f} s in a clean runtime: {r['error']}\n{r['traceback']}"
