"The library is what the notebooks export, the notebooks are clean, and README and CI agree with index.ipynb."
import re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT/'tools'))
from make_readme import readme

def test_export_and_clean_change_nothing(tmp_path):
    for d in ('nbs', 'spiking_sae'): shutil.copytree(ROOT/d, tmp_path/d, ignore=shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints'))
    shutil.copy(ROOT/'settings.ini', tmp_path)
    for cmd in ('nbdev_export', 'nbdev_clean'): subprocess.run([cmd], cwd=tmp_path, check=True, capture_output=True)
    files = [p for p in tmp_path.rglob('*') if p.is_file() and '__pycache__' not in p.parts]
    changed = [str(p.relative_to(tmp_path)) for p in files if not (ROOT/p.relative_to(tmp_path)).is_file()
               or (ROOT/p.relative_to(tmp_path)).read_bytes() != p.read_bytes()]
    assert not changed, f"nbdev_export / nbdev_clean change {changed}: run them and commit the result"

def test_readme_is_made_from_index():
    md, figs = readme(ROOT)
    assert (ROOT/'README.md').read_text() == md, "README.md is out of step with nbs/index.ipynb: run `python tools/make_readme.py`"
    for name in figs: assert (ROOT/name).is_file(), f"{name} is missing: run `python tools/make_readme.py`"

def test_ci_runs_the_readme_test_command():
    cmd = re.search(r'```sh\n(pip install -e .*pytest.*)\n```', (ROOT/'README.md').read_text()).group(1)
    assert cmd in (ROOT/'.ci'/'run').read_text().splitlines()
