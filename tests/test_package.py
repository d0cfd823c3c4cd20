"""What `pip install` gives a user: the sample and pretrained weights in the wheel, the console script, and a library \
that needs no nbdev."""

import signal, subprocess, sys, zipfile
import pytest
import stepwise  # the tests' harness (stepwise.py)
from pathlib import Path

ROOT = Path(__file__).parent.parent
WEIGHTS = [
    'fashion-mnist/config.json',
    'fashion-mnist/meta.json',
    'fashion-mnist/model.safetensors',
    'mnist-sample/config.json',
    'mnist-sample/meta.json',
    'mnist-sample/model.safetensors',
    'mnist-sample-best/config.json',
    'mnist-sample-best/meta.json',
    'mnist-sample-best/model.safetensors',
]
SAMPLE = [
    'train-images-idx3-ubyte.gz',
    'train-labels-idx1-ubyte.gz',
    't10k-images-idx3-ubyte.gz',
    't10k-labels-idx1-ubyte.gz',
    'README.md',
]


@pytest.mark.notebooks  # builds the wheel: the full run's, not the quick loop's
def test_wheel_carries_sample_and_command(tmp_path):
    subprocess.run(
        [
            sys.executable,
            '-m',
            'pip',
            'wheel',
            str(ROOT),
            '--no-deps',
            '--no-build-isolation',
            '-q',
            '-w',
            str(tmp_path),
        ],
        check=True,
    )
    whl = zipfile.ZipFile(next(tmp_path.glob('spiking_sae-*.whl')))
    names = whl.namelist()
    for f in SAMPLE:
        assert f'spiking_sae/data/mnist-sample/{f}' in names
    for f in WEIGHTS:
        assert f'spiking_sae/weights/{f}' in names
    # the package's modules only: the tests' harness (stepwise.py, which replaces two of its functions) stays out
    modules = {Path(n).stem for n in names if n.endswith('.py')}
    assert not modules & {Path(p).stem for p in (ROOT / 'tests').glob('*.py')}, modules
    meta = next(whl.read(n).decode() for n in names if n.endswith('METADATA'))
    entry = next(whl.read(n).decode() for n in names if n.endswith('entry_points.txt'))
    assert 'spiking-sae = spiking_sae.cli:main' in entry
    runtime = [line for line in meta.splitlines() if line.startswith('Requires-Dist') and 'extra ==' not in line]
    assert any('snntorch' in line for line in runtime) and not any(
        d in line for line in runtime for d in ('nbdev', 'fastcore', 'execnb')
    )


def test_library_runs_without_nbdev():
    code = (
        "import sys; sys.modules.update(nbdev=None, fastcore=None, execnb=None)\n"
        "import torch, spiking_sae.cli\nfrom spiking_sae.model import SAE\n"
        "print(tuple(SAE()(torch.rand(2, 1, 32, 32)).shape))\n"
        "import spiking_sae; print(spiking_sae.pretrained('mnist-sample', device='cpu').meta['dataset'])"
    )
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd='/')
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['(2,', '1,', '32,', '32)', 'sample']


def test_command_line_error_is_one_clear_line(tmp_path):
    out = subprocess.run(['spiking-sae', 'eval', str(tmp_path / 'missing.pt')], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"spiking-sae eval: error: checkpoint {tmp_path / 'missing.pt'} does not exist: "
        "pass the checkpoint.pt of a run directory"
    ]


def test_torch_hub_loads_a_pretrained_model_from_the_clone():
    code = (
        "import torch\n"
        f"m = torch.hub.load({str(ROOT)!r}, 'sae', source='local', pretrained='mnist-sample', device='cpu')\n"
        f"new = torch.hub.load({str(ROOT)!r}, 'sae', source='local', engine='reference', latent_dim=16)\n"
        f"flag = torch.hub.load({str(ROOT)!r}, 'sae', source='local', pretrained=True)\n"  # torchvision's habit
        "print(type(m).__name__, m.meta['dataset'], m.training, type(new).__name__, new.config['latent_dim'],"
        " flag.meta['dataset'])"
    )
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd='/')
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['FastSAE', 'sample', 'False', 'SAE', '16', 'fashion-mnist']


def test_shipped_weights_are_safetensors_without_pickle():
    import json
    from safetensors.torch import load_file
    from spiking_sae.model import SAE

    for name in ('fashion-mnist', 'mnist-sample', 'mnist-sample-best'):
        folder = ROOT / 'spiking_sae' / 'weights' / name
        assert sorted(p.name for p in folder.iterdir()) == ['config.json', 'meta.json', 'model.safetensors']
        config = json.loads((folder / 'config.json').read_text())  # the constructor's arguments, nothing else
        assert list(config) == list(SAE().config), name
        weights, own = load_file(folder / 'model.safetensors'), SAE(**config).state_dict()
        assert {k: tuple(v.shape) for k, v in weights.items()} == {k: tuple(v.shape) for k, v in own.items()}
    assert not list((ROOT / 'spiking_sae' / 'weights').glob('*.pt'))


def test_min_python_is_what_the_pinned_tools_need():
    ("settings.ini's min_python is the highest Python floor among the dev tools, pinned exactly (so their floors are "
     "the same wherever they install); the Python running here is above it")
    import configparser, re
    from importlib.metadata import version, metadata

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'settings.ini')
    cfg = cfg['DEFAULT']
    pins = dict(r.split('==') for r in cfg['dev_requirements'].split() if '==' in r)
    assert {'nbdev', 'execnb', 'fastcore', 'ghapi'} <= pins.keys(), pins
    assert all(version(p) == v for p, v in pins.items()), "the dev tools installed are not the pinned ones"
    def floor(p):
        return tuple(map(int, re.search(r'>=\s*(\d+)\.(\d+)', metadata(p)['Requires-Python']).groups()))
    floors = {p: floor(p) for p in pins}
    least = tuple(map(int, cfg['min_python'].split('.')))
    assert least == max(floors.values()), floors
    assert sys.version_info[:2] >= least


def test_imports_load_only_what_they_use():
    ("The command line's parser loads no torch (`spiking-sae --help` answers at once); the package loads nothing; "
     "no module loads torchvision, torchmetrics or pyplot before it needs them")
    heavy = ('torch', 'torchvision', 'torchmetrics', 'matplotlib.pyplot', 'scipy', 'triton', 'snntorch')
    cases = [
        ('spiking_sae, spiking_sae.cli, spiking_sae.config, spiking_sae.recipes, spiking_sae.engines', ()),
        ('spiking_sae.idx', ('torch',)),
        ('spiking_sae.cli; spiking_sae.cli.parser().parse_args(["train"])', ()),
        (
            'spiking_sae.model, spiking_sae.train, spiking_sae.runs, spiking_sae.io, '
            'spiking_sae.bn_time',
            ('torch', 'snntorch'),
        ),
    ]
    procs = [  # each in a fresh interpreter, all at once
        subprocess.Popen(
            [sys.executable, '-c', f"import sys, {imports}\nprint(*sorted(m for m in {heavy!r} if m in sys.modules))"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd='/',
        )
        for imports, _ in cases
    ]
    for (imports, allowed), p in zip(cases, procs, strict=True):
        out, err = p.communicate()
        assert p.returncode == 0, err
        assert set(out.split()) <= set(allowed), f"importing {imports} loads {out.split()}"


def test_what_builds_saves_and_what_saves_loads(tmp_path):
    ("One rule table for building, saving and loading: a 2-channel model round-trips; a model too wide to load "
     "does not build")
    import json, pytest, torch
    from spiking_sae.model import SAE

    two = SAE(in_channels=2, latent_dim=8).eval()
    back = SAE.from_pretrained(two.save_pretrained(tmp_path / 'two'))
    x = torch.rand(3, 2, 32, 32)
    with torch.no_grad():
        assert torch.equal(back(x), two(x))
    assert back.config == two.config and next(back.parameters()).device.type == 'cpu'
    with pytest.raises(ValueError, match='latent_dim must be an integer >= 1 and <= 65,536, got 70000'):
        SAE(latent_dim=70_000)
    old = tmp_path / 'old'  # the layout of the first releases: {model_config, meta}, no meta.json
    two.save_pretrained(old, meta={'note': 'old layout'})
    flat = json.loads((old / 'config.json').read_text())
    (old / 'meta.json').unlink()
    (old / 'config.json').write_text(json.dumps(dict(model_config=flat, meta={'note': 'old layout'})))
    assert SAE.from_pretrained(old).meta == {'note': 'old layout'}


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_a_signal_stops_a_command_with_one_line(tmp_path, sig):
    ("Ctrl-C or SIGTERM stop a command other than train (which saves a checkpoint) at once, with one line on stderr "
     "and nothing half-written; the exit status 128 + the signal's number, as `train`'s. The signal comes while "
     "`encode` writes its file, held there by the tests' "
     "harness (stepwise.py) until it lands, on a machine of any speed. Started as a shell starts a job in the "
     "background, with "
     "SIGINT ignored: `kill -INT` stops it all the same, as it stops `train`")
    out = tmp_path / 'spikes.npy'
    p = subprocess.Popen([sys.executable, str(stepwise.PATH), '--hold', 'writing spikes.npy', 'encode',
                          'mnist-sample', '-n', '10', '--device', 'cpu', '-o', str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # as a shell's background job
    for line in p.stdout:  # what the process reports, not a delay
        if line.strip() == '@ writing spikes.npy':
            break
    p.send_signal(sig)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 128 + sig, err  # 130 or 143, as for train
    assert err.strip().splitlines()[-1] == 'spiking-sae encode: interrupted', err
    assert list(tmp_path.iterdir()) == []  # neither spikes.npy nor its temporary file
