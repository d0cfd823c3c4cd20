"""Run every notebook as a Colab user would, on a CPU runtime: in a fresh virtual environment that has only
what the notebooks' install cell installs (the package from this clone in place of its GitHub URL, and
fastcore) plus what Colab has and they use (a Jupyter kernel and ipywidgets), each notebook copied alone into an empty folder, every cell run in order
("Run all": `#| hide`, `#| slow` and `#| cuda` cells too), with `IN_TEST=1` to keep the work short and no
GPU visible. Data comes from the sample embedded in the package or Debian's Fashion-MNIST.

    python tools/colab_check.py [NOTEBOOK ...] [--venv DIR] [--out colab.json]

`--venv DIR` reuses (or makes) the environment in DIR; by default a new one is made in a temporary folder
and removed after. Prints one line per notebook and writes them to `--out` as JSON; exits 1 if any failed.
`tests/test_notebooks.py` runs it in CI, one test per notebook: the only place the notebooks run there."""
import argparse, json, os, re, shlex, shutil, subprocess, sys, tempfile, time, venv
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parent.parent
KERNEL = 'colab-check'
COLAB_HAS = ['ipykernel', 'ipywidgets', 'scikit-image'] # Colab's kernel, the widgets its progress bars (`tqdm.auto`) draw with, and scikit-image (its sample photos: 15_own_data)

def install_command(root=ROOT) -> list[str]:
    "The packages the notebooks' install cell installs, the package's own URL replaced by the clone `root`"
    cfg = get_config(path=root)
    cells = {c.source for p in notebooks(root) for c in nbformat.read(p, as_version=4).cells if '! [ -e /content ]' in c.source}
    if len(cells) != 1: raise ValueError(f"the notebooks have {len(cells)} different install cells; they must share one")
    line = next(l for l in cells.pop().splitlines() if l.startswith('! [ -e /content ]'))
    pkgs = [a for a in shlex.split(line.split('pip install', 1)[1]) if not a.startswith('-')]
    url = f"git+https://github.com/{cfg.user}/{cfg.repo}"
    if url not in pkgs: raise ValueError(f"the install cell does not install {url} (settings.ini's user/repo)")
    return [str(root) if a == url else a for a in pkgs]

def notebooks(root=ROOT) -> list[Path]:
    return sorted(p for p in get_config(path=root).path('nbs_path').glob('*.ipynb') if not p.name.startswith('_'))

def make_env(dest:Path, root=ROOT) -> Path:
    "A virtual environment in `dest` with what the install cell installs and `COLAB_HAS`; returns its python"
    py = dest/'bin'/'python'
    if not py.exists(): venv.create(dest, with_pip=True)
    subprocess.run([str(py), '-m', 'pip', 'install', '-q', *install_command(root), *COLAB_HAS], check=True)
    return py

def kernel_specs(py:Path, where:Path, gpu:bool=False) -> KernelSpecManager:
    "A kernel spec running `py`, as Colab's CPU runtime would (or its GPU runtime, with `gpu`): its own scripts first on PATH"
    env = dict(IN_TEST='1', PATH=f"{py.parent}{os.pathsep}{os.environ.get('PATH', '')}",
               MPLBACKEND='module://matplotlib_inline.backend_inline', **({} if gpu else dict(CUDA_VISIBLE_DEVICES='')))
    spec = dict(argv=[str(py), '-m', 'ipykernel_launcher', '-f', '{connection_file}'], display_name=KERNEL,
                language='python', env=env)
    (where/KERNEL).mkdir(parents=True, exist_ok=True)
    (where/KERNEL/'kernel.json').write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(where)])

def first_error(nb) -> tuple[str, str]:
    "The first error a run left in `nb`'s outputs: one line, and its traceback as plain text"
    for c in nb.cells:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'error':
                tb = re.sub(r'\x1b\[[0-9;]*m', '', '\n'.join(o.get('traceback', [])))
                return f"{o['ename']}: {o['evalue']}"[:300], f"in the cell:\n{c.source}\n\n{tb}"
    return '', ''

def run_notebook(path:Path, specs:KernelSpecManager, timeout:int=900) -> dict:
    "Run all of `path`'s cells, copied alone into an empty folder; what happened, as a dict"
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(path, d)
        km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
        client = NotebookClient(nb, km=km, timeout=timeout, resources={'metadata': {'path': d}})
        t, error, tb = time.time(), '', ''
        try: client.execute()
        except Exception as e:
            error, tb = first_error(nb)
            if not error: error, tb = f"{type(e).__name__}: {str(e).strip().splitlines()[-1]}"[:300], str(e)
        finally:
            if km.has_kernel: km.shutdown_kernel(now=True) # a client handed a kernel manager leaves it running
    return dict(notebook=path.name, ok=not error, seconds=round(time.time() - t, 1), error=error, traceback=tb)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('notebooks', nargs='*', help="notebook names or stems (default: all)")
    p.add_argument('--venv', type=Path, help="reuse or make the environment here (default: a temporary one)")
    p.add_argument('--out', type=Path, help="also write the results here as JSON")
    a = p.parse_args(argv)
    nbs = [n for n in notebooks() if not a.notebooks or n.name in a.notebooks or n.stem in a.notebooks]
    tmp = Path(tempfile.mkdtemp(prefix='colab-check-'))
    try:
        t = time.time()
        py = make_env(a.venv or tmp/'venv')
        print(f"environment ready in {time.time() - t:.0f} s: {' '.join(install_command() + COLAB_HAS)}", flush=True)
        specs = kernel_specs(py, tmp/'kernels')
        results = []
        for nb in nbs:
            results.append(r := run_notebook(nb, specs))
            print(f"{'ok  ' if r['ok'] else 'FAIL'} {r['notebook']:<24} {r['seconds']:6.1f} s  {r['error']}", flush=True)
    finally: shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(r['ok'] for r in results)
    print(f"{passed} of {len(results)} notebooks ran top to bottom in a clean environment")
    if a.out: a.out.write_text(json.dumps(results, indent=1) + '\n')
    return results

if __name__ == '__main__':
    sys.exit(0 if all(r['ok'] for r in main()) else 1)
