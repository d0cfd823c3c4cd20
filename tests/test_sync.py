"The library is what the notebooks export, the notebooks are clean, and README and CI agree with index.ipynb."

import re, shutil, subprocess, sys
from pathlib import Path
from types import SimpleNamespace
from nbdev.config import get_config

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
from make_readme import readme
import colab_check, repo_urls


def test_export_and_clean_change_nothing(tmp_path):
    for d in ('nbs', 'spiking_sae'):
        shutil.copytree(ROOT / d, tmp_path / d, ignore=shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints'))
    shutil.copy(ROOT / 'settings.ini', tmp_path)
    for cmd in ('nbdev_export', 'nbdev_clean'):
        subprocess.run([cmd], cwd=tmp_path, check=True, capture_output=True)
    files = [p for p in tmp_path.rglob('*') if p.is_file() and '__pycache__' not in p.parts]
    changed = [
        str(p.relative_to(tmp_path))
        for p in files
        if not (ROOT / p.relative_to(tmp_path)).is_file()
        or (ROOT / p.relative_to(tmp_path)).read_bytes() != p.read_bytes()
    ]
    assert not changed, f"nbdev_export / nbdev_clean change {changed}: run them and commit the result"


def test_ruff_finds_nothing():
    "The library, hubconf, tools and tests pass ruff at 120 columns (ruff.toml; tools/lint.py says what it leaves out)"
    out = subprocess.run([sys.executable, str(ROOT / 'tools' / 'lint.py')], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_readme_is_made_from_index():
    md, figs = readme(ROOT)
    assert (ROOT / 'README.md').read_text() == md, (
        "README.md is out of step with nbs/index.ipynb: run `python tools/make_readme.py`"
    )
    for name in figs:
        assert (ROOT / name).is_file(), f"{name} is missing: run `python tools/make_readme.py`"


def test_ci_runs_the_readme_test_command():
    cmd = re.search(r'```sh\n(pip install -e .*pytest.*)\n```', (ROOT / 'README.md').read_text()).group(1)
    assert cmd in (ROOT / '.ci' / 'run').read_text().splitlines()


def test_links_follow_settings():
    "Colab badges, Colab links and install commands name settings.ini's user/repo (tools/repo_urls.py)"
    stale = repo_urls.stale(ROOT)
    assert not stale, (
        f"{[p.name for p in stale]} link to another repository than settings.ini's: run `python tools/repo_urls.py`"
    )


def test_links_follow_a_new_owner():
    "Changing settings.ini's user and repo is all it takes: every link of ours follows, and no one else's"
    cfg, new = get_config(path=ROOT), SimpleNamespace(user='acme-lab', repo='sae', branch='dev')
    text = (ROOT / 'nbs' / 'index.ipynb').read_text()
    mine = text.count(f'{cfg.user}/{cfg.repo}')
    out = repo_urls.fix(text, new)
    assert mine > 10 and out.count(f'{cfg.user}/{cfg.repo}') == 0
    assert (
        out.count('colab.research.google.com/github/acme-lab/sae/blob/dev/nbs/')
        + out.count('git+https://github.com/acme-lab/sae')
        == mine
    )
    assert out.count('snntorch') == text.count('snntorch')


def test_one_install_cell():
    ("Every notebook installs the same things on Colab: the package from settings.ini's repo (here, the clone), and "
     "besides it only what some notebook imports and the package's requirements do not bring")
    from test_cells import REQUIREMENTS, imports, missing
    from execnb.nbio import read_nb

    cmd = colab_check.install_command(ROOT)
    assert str(ROOT) in cmd, cmd
    used = set().union(*(imports(c.source) for nb in colab_check.notebooks(ROOT) for c in read_nb(nb).cells
                         if c.cell_type == 'code'))
    needed = missing(used, [*REQUIREMENTS, *colab_check.JUPYTER, 'ipython'])
    extra = [a for a in cmd if a != str(ROOT)]
    unused = [a for a in extra if a not in needed]  # fastcore: the notebooks' test_eq, which no requirement brings
    assert extra and not unused, f"the install cell installs {unused}, which no notebook needs beyond the package"


def test_readme_says_what_replaces_nbdev_prepare():
    "The README names tools/prepare.sh, and the script does what nbdev_prepare does here (the README without Quarto)"
    assert 'bash tools/prepare.sh' in (ROOT / 'README.md').read_text()
    steps = (ROOT / 'tools' / 'prepare.sh').read_text()
    for step in (
        'nbdev_export',
        'nbdev_clean',
        'python tools/repo_urls.py',
        'python tools/make_readme.py',
        'python tools/lint.py',
        'python -m pytest',
    ):
        assert f'\n{step}' in steps or f' {step}' in steps, step


def test_workflows_install_the_cpu_build_of_torch_first():
    "Both GitHub workflows install torch's CPU build before the package would pull the CUDA one"
    import yaml

    for f in ('test.yaml', 'deploy.yaml'):
        for job in yaml.safe_load((ROOT / '.github' / 'workflows' / f).read_text())['jobs'].values():
            runs = [s.get('run', '') for s in job['steps']]
            cpu = next(i for i, r in enumerate(runs) if 'download.pytorch.org/whl/cpu' in r)
            pkg = next(i for i, r in enumerate(runs) if '.ci/run' in r or 'pip install -e' in r)
            assert cpu < pkg, f
