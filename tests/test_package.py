"What `pip install` gives a user: the sample and pretrained weights in the wheel, the console script, and a library that needs no nbdev."
import subprocess, sys, zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
WEIGHTS = ['fashion-mnist.pt', 'mnist-sample.pt']
SAMPLE = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'README.md']

def test_wheel_carries_sample_and_command(tmp_path):
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(ROOT), '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp_path)], check=True)
    whl = zipfile.ZipFile(next(tmp_path.glob('spiking_sae-*.whl')))
    names = whl.namelist()
    for f in SAMPLE: assert f'spiking_sae/data/mnist-sample/{f}' in names
    for f in WEIGHTS: assert f'spiking_sae/weights/{f}' in names
    meta = next(whl.read(n).decode() for n in names if n.endswith('METADATA'))
    entry = next(whl.read(n).decode() for n in names if n.endswith('entry_points.txt'))
    assert 'spiking-sae = spiking_sae.cli:main' in entry
    runtime = [l for l in meta.splitlines() if l.startswith('Requires-Dist') and 'extra ==' not in l]
    assert any('snntorch' in l for l in runtime) and not any(d in l for l in runtime for d in ('nbdev', 'fastcore', 'execnb'))

def test_library_runs_without_nbdev():
    code = ("import sys; sys.modules.update(nbdev=None, fastcore=None, execnb=None)\n"
            "import torch, spiking_sae.cli\nfrom spiking_sae.model import SAE\n"
            "print(tuple(SAE()(torch.rand(2, 1, 32, 32)).shape))\n"
            "import spiking_sae; print(spiking_sae.pretrained('mnist-sample', device='cpu').meta['dataset'])")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd='/')
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['(2,', '1,', '32,', '32)', 'sample']

def test_command_line_error_is_one_clear_line(tmp_path):
    out = subprocess.run(['spiking-sae', 'eval', str(tmp_path/'missing.pt')], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [f"spiking-sae eval: error: checkpoint {tmp_path/'missing.pt'} does not exist: pass the checkpoint.pt of a run directory"]
