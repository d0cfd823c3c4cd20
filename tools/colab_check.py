"""Run every notebook as a user would after its own install cell, on a CPU: in a fresh virtual environment
holding what a plain Jupyter has (a kernel) and what the notebooks' install cell installs (the package from this
clone in place of its GitHub URL, and fastcore), each notebook copied alone into an empty folder, every cell run
in order ("Run all": `#| hide`, `#| slow` and `#| cuda` cells too), with `IN_TEST=1` to keep the work short and no
GPU visible; `--jobs` notebooks at a time. A notebook that needs more installs it itself (`%pip install` in its
install cell). `--colab` adds what Colab has besides (`COLAB_HAS`).

The environment also sees the packages of the Python that runs this script (a `.pth` file), so that the torch
already installed is the one used, not downloaded again; a package a notebook forgets to install may therefore
be found here when the tests' own environment has it (scikit-image does, for the docs): `tests/test_cells.py`
checks, without running anything, that each notebook imports only what its install cell brings. Data comes
from the sample embedded in the package or Debian's Fashion-MNIST.

    python tools/colab_check.py [NOTEBOOK ...] [--venv DIR] [--colab] [--jobs N] [--out colab.json]

`--venv DIR` reuses (or makes) the environment in DIR; by default a new one is made in a temporary folder
and removed after. Prints which torch it runs, one line per notebook, and writes them to `--out` as JSON; exits 1
if any failed. `tests/test_notebooks.py` runs it in CI, one test per notebook: the only place the notebooks run
there."""

import argparse, json, os, re, shlex, shutil, site, subprocess, sys, sysconfig, tempfile, time, venv
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parent.parent
KERNEL = 'colab-check'
JUPYTER = ['ipykernel']  # what any Jupyter has: a kernel
COLAB_HAS = ['ipywidgets', 'scikit-image']  # and Colab besides: the widgets `tqdm.auto` draws with, scikit-image
SHARED = '! [ -e /content ]'  # the install line every notebook shares: on Colab, the package and fastcore


def install_cell(path: Path) -> str:
    "The source of the notebook's install cell (the one with the `SHARED` line), or ''"
    return next((c.source for c in nbformat.read(path, as_version=4).cells if SHARED in c.source), '')


def install_command(root=ROOT) -> list[str]:
    "The packages the notebooks' shared install line installs, the package's own URL replaced by the clone `root`"
    cfg = get_config(path=root)
    lines = {next((line for line in install_cell(p).splitlines() if line.startswith(SHARED)), None)
             for p in notebooks(root)}
    if len(lines) != 1 or None in lines:
        raise ValueError(
            f"the notebooks' install cells have {len(lines)} different lines starting {SHARED!r}; they must share one"
        )
    pkgs = [a for a in shlex.split(lines.pop().split('pip install', 1)[1]) if not a.startswith('-')]
    url = f"git+https://github.com/{cfg.user}/{cfg.repo}"
    if url not in pkgs:
        raise ValueError(f"the install cell does not install {url} (settings.ini's user/repo)")
    return [str(root) if a == url else a for a in pkgs]


def own_installs(path: Path) -> list[str]:
    "What the notebook's install cell installs on any machine besides the shared line (its `%pip install` lines)"
    return [
        a
        for line in install_cell(path).splitlines()
        if line.startswith('%pip install')
        for a in shlex.split(line.split('pip install', 1)[1])
        if not a.startswith('-')
    ]


def notebooks(root=ROOT) -> list[Path]:
    return sorted(p for p in get_config(path=root).path('nbs_path').glob('*.ipynb') if not p.name.startswith('_'))


def make_env(dest: Path, root=ROOT, colab: bool = False) -> Path:
    """A virtual environment in `dest` with a Jupyter kernel and what the install cell installs (and `COLAB_HAS`,
    with `colab`), which also sees the packages of this Python (a `.pth` file: its torch is used); returns its python"""
    py = dest / 'bin' / 'python'
    if not py.exists():
        venv.create(dest, with_pip=True)
    own = subprocess.run(
        [str(py), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    mine = [*site.getsitepackages(), sysconfig.get_paths()['purelib'], site.getusersitepackages()]
    Path(own, 'this-python.pth').write_text('\n'.join(d for d in dict.fromkeys(mine) if Path(d).is_dir()) + '\n')
    # `REFUSE_MODULES` (kernel_specs' `refuse`) makes modules unimportable from the interpreter's start
    shutil.copy(ROOT / 'tools' / 'refuse_modules.py', own)
    Path(own, 'refuse-modules.pth').write_text('import refuse_modules\n')
    subprocess.run(
        [str(py), '-m', 'pip', 'install', '-q', *install_command(root), *JUPYTER, *(COLAB_HAS if colab else [])],
        check=True,
    )
    return py


def torch_of(py: Path) -> str:
    "Which torch the environment of `py` runs, and where it lies"
    code = ('import torch; print(f"torch {torch.__version__} '
            '({\'CUDA \' + torch.version.cuda if torch.version.cuda else \'CPU\'} build) from {torch.__file__}")')
    return subprocess.run([str(py), '-c', code], capture_output=True, text=True, check=True).stdout.strip()


def kernel_specs(py: Path, where: Path, gpu: bool = False, jobs: int = 1, refuse=()) -> KernelSpecManager:
    """A kernel spec running `py`, as Colab's CPU runtime would (or its GPU runtime, with `gpu`): its own scripts first
    on PATH; with `jobs` notebooks at a time, each (and what it starts) gets its share of the cores as threads; the
    modules `refuse` unimportable in it and in the processes it starts (`tools/refuse_modules.py`), as where they
    are not installed: GitHub's CPU torch brings no `triton`"""
    threads = {} if jobs == 1 else dict(OMP_NUM_THREADS=str(max(1, len(os.sched_getaffinity(0)) // jobs)))
    env = dict(
        IN_TEST='1',
        PATH=f"{py.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **threads,
        MPLBACKEND='module://matplotlib_inline.backend_inline',
        **({} if gpu else dict(CUDA_VISIBLE_DEVICES='')),
        **(dict(REFUSE_MODULES=' '.join(refuse)) if refuse else {}),
    )
    spec = dict(
        argv=[str(py), '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
        display_name=KERNEL,
        language='python',
        env=env,
    )
    (where / KERNEL).mkdir(parents=True, exist_ok=True)
    (where / KERNEL / 'kernel.json').write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(where)])


def first_error(nb) -> tuple[str, str]:
    "The first error a run left in `nb`'s outputs: one line, and its traceback as plain text"
    for c in nb.cells:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'error':
                tb = re.sub(r'\x1b\[[0-9;]*m', '', '\n'.join(o.get('traceback', [])))
                return f"{o['ename']}: {o['evalue']}"[:300], f"in the cell:\n{c.source}\n\n{tb}"
    return '', ''


def fetched(path: Path, root=ROOT) -> list[tuple[str, str]]:
    ("The files the notebook's install cell fetches from this repository on Colab (`wget -O DEST <raw URL of PATH on "
     "main>`), as (DEST, PATH) pairs: the check copies them from the clone, as it installs the package from it")
    cfg = get_config(path=root)
    url = re.escape(f'https://raw.githubusercontent.com/{cfg.user}/{cfg.repo}/main/')
    return re.findall(r'wget\s+(?:-\S+\s+)*?-O\s+(\S+)\s+' + url + r'(\S+)', install_cell(path))


def run_notebook(path: Path, specs: KernelSpecManager, timeout: int = 900) -> dict:
    "Run all of `path`'s cells, copied alone into an empty folder; what happened, as a dict"
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / 'nbs'  # the notebook's folder; files its install cell fetches on Colab go beside it
        d.mkdir()
        shutil.copy(path, d)
        for dest, src in fetched(path):
            (d / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / src, d / dest)
        km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
        client = NotebookClient(nb, km=km, timeout=timeout, resources={'metadata': {'path': d}})
        t, error, tb = time.time(), '', ''
        try:
            client.execute()
        except Exception as e:
            error, tb = first_error(nb)
            if not error:
                error, tb = f"{type(e).__name__}: {str(e).strip().splitlines()[-1]}"[:300], str(e)
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)  # a client handed a kernel manager leaves it running
    return dict(notebook=path.name, ok=not error, seconds=round(time.time() - t, 1), error=error, traceback=tb)


def run_notebooks(paths: list, specs: KernelSpecManager, jobs: int = 1) -> dict[str, Future]:
    "Start running `paths`, `jobs` at a time (each in a kernel of its own); {notebook name: future of its result}"
    pool = ThreadPoolExecutor(jobs)
    runs = {p.name: pool.submit(run_notebook, p, specs) for p in paths}
    pool.shutdown(wait=False)  # the runs go on; the pool takes no more (`stop` cancels those not started)
    return runs


def stop(runs: dict):
    ("Cancel the runs of `run_notebooks` not yet started (after a failure with `-x`, or Ctrl-C), so that none is "
     "left to wait for")
    for r in runs.values():
        r.cancel()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('notebooks', nargs='*', help="notebook names or stems (default: all)")
    p.add_argument('--venv', type=Path, help="reuse or make the environment here (default: a temporary one)")
    p.add_argument('--colab', action='store_true', help="add what Colab has besides a plain Jupyter (COLAB_HAS)")
    p.add_argument('--jobs', type=int, default=2, help="notebooks run at a time (default: 2; the cores are shared out)")
    p.add_argument('--out', type=Path, help="also write the results here as JSON")
    p.add_argument('--refuse', default='triton', help="modules made unimportable, as where they are not installed "
                   "(default: triton, which GitHub's CPU torch lacks; '' refuses none)")
    a = p.parse_args(argv)
    nbs = [n for n in notebooks() if not a.notebooks or n.name in a.notebooks or n.stem in a.notebooks]
    tmp = Path(tempfile.mkdtemp(prefix='colab-check-'))
    try:
        t = time.time()
        py = make_env(a.venv or tmp / 'venv', colab=a.colab)
        print(
            f"environment ready in {time.time() - t:.0f} s: "
            f"{' '.join(install_command() + JUPYTER + (COLAB_HAS if a.colab else []))}; "
            f"{torch_of(py)}",
            flush=True,
        )
        specs = kernel_specs(py, tmp / 'kernels', jobs=a.jobs, refuse=a.refuse.split())
        results, runs = [], run_notebooks(nbs, specs, a.jobs)
        try:
            for run in runs.values():
                results.append(r := run.result())
                print(
                    f"{'ok  ' if r['ok'] else 'FAIL'} {r['notebook']:<24} {r['seconds']:6.1f} s  {r['error']}",
                    flush=True,
                )
        finally:
            stop(runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(r['ok'] for r in results)
    print(f"{passed} of {len(results)} notebooks ran top to bottom in a clean environment")
    if a.out:
        a.out.write_text(json.dumps(results, indent=1) + '\n')
    return results


if __name__ == '__main__':
    sys.exit(0 if all(r['ok'] for r in main()) else 1)
