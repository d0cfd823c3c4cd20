"""What the notebooks' cells must be, read without running them: every `#| cuda` cell guards itself with a CUDA
check before any work (Colab's "Run all" runs it on a CPU runtime too), and every module a notebook or the
library imports comes with what its install cell installs (the notebooks also run where the environment holds
more: `tools/colab_check.py`)."""

import ast, configparser, functools, re, sys
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path
import pytest
from execnb.nbio import read_nb
from nbdev.process import extract_directives
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import colab_check

NBS = colab_check.notebooks(ROOT)
CUDA_CHECKS = {'torch.cuda.is_available', 'torch.cuda.device_count'}


def code(src: str) -> ast.Module:
    "A cell's code, IPython's `!` and `%` lines as `pass`"
    return ast.parse('\n'.join('pass' if re.match(r'\s*[!%]', line) else line for line in src.splitlines()))


def _quiet(stmts) -> bool:
    "Whether `stmts` only print or pass"
    return all(
        isinstance(s, ast.Pass)
        or isinstance(s, ast.Expr)
        and isinstance(s.value, ast.Call)
        and ast.unparse(s.value.func) == 'print'
        for s in stmts
    )


def cuda_guard_problem(src: str) -> str:
    "Why a `#| cuda` cell may do work without CUDA: '' when its whole body sits behind a CUDA check"
    body = code(src).body
    if len(body) != 1 or not isinstance(body[0], ast.If):
        return "its code is not one `if` on a CUDA check"
    test, neg = body[0].test, False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, neg = test.operand, True
    if isinstance(test, ast.Compare):  # torch.cuda.device_count() >= 2: at least one GPU
        op, right = test.ops[0], test.comparators[0]
        at_least = (
            right.value + isinstance(op, ast.Gt)
            if isinstance(right, ast.Constant) and isinstance(right.value, int)
            else 0
        )
        if len(test.ops) != 1 or not isinstance(op, (ast.Gt, ast.GtE)) or at_least < 1:
            return f"its `if` tests `{ast.unparse(body[0].test)}`, which holds without a GPU"
        test = test.left
    if not (isinstance(test, ast.Call) and ast.unparse(test.func) in CUDA_CHECKS):
        return f"its `if` tests `{ast.unparse(body[0].test)}`, not {' or '.join(sorted(CUDA_CHECKS))}"
    no_cuda = body[0].body if neg else body[0].orelse
    return '' if _quiet(no_cuda) else "it works in its branch for a runtime without CUDA"


def cuda_cells(nb: Path) -> dict:
    "{cell index: source} of the notebook's `#| cuda` cells"
    return {
        i: c.source
        for i, c in enumerate(read_nb(nb).cells)
        if c.cell_type == 'code' and 'cuda' in extract_directives(c, remove=False)
    }


def test_cuda_cells_exist():
    assert sum(len(cuda_cells(nb)) for nb in NBS) >= 5, "no `#| cuda` cells found: does cuda_cells still see the flag?"


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_cuda_cells_guard_themselves(nb):
    bad = {i: p for i, s in cuda_cells(nb).items() if (p := cuda_guard_problem(s))}
    assert not bad, f"{nb.name}: `#| cuda` cells that would run on a CPU runtime: {bad}"


@pytest.mark.parametrize(
    'src',
    [
        "#| cuda\nif ctrn is not None:\n    fit(cfg, ctrn, ctst)",  # 24_own_data's, before issue 23
        "#| cuda\nx = 1\nif torch.cuda.is_available(): fit(cfg, trn, tst)",  # work before the check
        "#| cuda\nif not torch.cuda.is_available(): fit(cfg, trn, tst)\nelse: pass",  # work where there is no CUDA
        "#| cuda\nif torch.cuda.is_available() or True: fit(cfg, trn, tst)",
        "#| cuda\nif torch.cuda.device_count() < 2: fit(cfg, trn, tst)",  # holds where there is none
        "#| cuda\nif torch.cuda.device_count() >= 0: fit(cfg, trn, tst)",
        "#| cuda\nif torch.cuda.is_available() == False: fit(cfg, trn, tst)",
    ],
)
def test_unguarded_cuda_cells_are_found(src):
    assert cuda_guard_problem(src)


def test_guarded_cuda_cells_pass():
    for src in (
        '#| cuda\nif not torch.cuda.is_available(): print("skipped")\nelse: fit()',
        '#| cuda\nif torch.cuda.device_count() >= 2: fit()',
        '#| cuda\nif torch.cuda.device_count() > 0: fit()',
        '#| cuda\nif torch.cuda.is_available(): fit()',
    ):
        assert cuda_guard_problem(src) == '', src


def imports(src: str) -> set:
    ("The top-level modules a piece of code imports (relative imports, and those tried under `except "
     "ImportError`, left out)")
    tree, names = code(src), set()
    tried = {
        id(n)
        for t in ast.walk(tree)
        if isinstance(t, ast.Try)
        and any(
            h.type is not None and ast.unparse(h.type) in ('ImportError', 'ModuleNotFoundError') for h in t.handlers
        )
        for s in t.body
        for n in ast.walk(s)
    }
    for n in ast.walk(tree):
        if id(n) in tried:
            continue
        if isinstance(n, ast.Import):
            names |= {a.name.split('.')[0] for a in n.names}
        elif isinstance(n, ast.ImportFrom) and not n.level:
            names.add(n.module.split('.')[0])
    return names


def cuda_only(name: str) -> bool:
    ("Whether a distribution torch requires comes only with its CUDA build (this machine's), not with the CPU build "
     "GitHub's CI installs: Triton and NVIDIA's libraries")
    return name == 'triton' or name.startswith(('nvidia-', 'cuda-'))


@functools.cache
def closure(reqs: tuple) -> frozenset:
    ("The installed distributions that the requirements `reqs` bring, with what they require in turn, as torch's CPU "
     "build brings them (`cuda_only` left out of torch's)")
    todo, seen = [(r, '') for r in reqs], set()
    while todo:
        r, by = todo.pop()
        req = Requirement(r)
        name = canonicalize_name(req.name)
        if name in seen or req.marker and not req.marker.evaluate({'extra': ''}) or by == 'torch' and cuda_only(name):
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # not installed here: it cannot provide a module here either
        seen.add(name)
        todo += [(r, name) for r in dist.requires or []]
    return frozenset(seen)


@functools.cache
def providers() -> dict:
    "{module: its distributions} for everything installed"
    return {m: {canonicalize_name(d) for d in ds} for m, ds in packages_distributions().items()}


REQUIREMENTS = configparser.ConfigParser()
REQUIREMENTS.read(ROOT / 'settings.ini')
REQUIREMENTS = REQUIREMENTS['DEFAULT']['requirements'].split()


def missing(mods: set, reqs) -> list:
    "The modules of `mods` that neither the standard library, the package nor `reqs` provide"
    have, by = closure(tuple(reqs)), providers()
    return sorted(
        m for m in mods if m not in sys.stdlib_module_names and m != 'spiking_sae' and not by.get(m, set()) & have
    )


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_notebook_imports_what_its_install_cell_brings(nb):
    mods = set().union(*(imports(c.source) for c in read_nb(nb).cells if c.cell_type == 'code'))
    brought = [
        *REQUIREMENTS,
        *(a for a in colab_check.install_command(ROOT) if a != str(ROOT)),
        *colab_check.own_installs(nb),
        *colab_check.JUPYTER,
        'ipython',
    ]  # the kernel's IPython (named: ipykernel may not be installed here)
    assert not missing(mods, brought), (
        f"{nb.name} imports {missing(mods, brought)}, which its install cell does not bring"
    )


def test_library_imports_what_it_requires():
    mods = set().union(*(imports(p.read_text()) for p in (ROOT / 'spiking_sae').glob('*.py')))
    assert not missing(mods, REQUIREMENTS), (
        f"the library imports {missing(mods, REQUIREMENTS)}, not in settings.ini's requirements"
    )


def test_triton_is_an_extra():
    "Triton, imported only where it may be missing, is declared as the extra `triton` (setup.py reads settings.ini)"
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'settings.ini')
    assert cfg['DEFAULT']['triton_requirements'].split() == ['triton']
    assert "'triton': triton_requirements" in (ROOT / 'setup.py').read_text()


def test_cuda_only_distributions_are_left_out():
    "torch's closure as on GitHub's runners: no triton, no NVIDIA libraries (here the CUDA build brings them)"
    assert cuda_only('triton') and cuda_only('nvidia-cublas') and not cuda_only('sympy')
    assert 'triton' not in closure(('torch',)) and 'sympy' in closure(('torch',))
    assert missing({'triton'}, REQUIREMENTS) == ['triton']


WITHOUT_TRITON = """
import refuse_modules, importlib, pkgutil, warnings, subprocess, sys
import spiking_sae
for m in pkgutil.iter_modules(spiking_sae.__path__):
    if m.name not in ('__main__',):
        importlib.import_module(f'spiking_sae.{m.name}')
import torch
from spiking_sae.fast import FastSAE
from spiking_sae.scan import triton_works
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    assert not triton_works('cpu')
assert 'triton is not installed' in str(w[0].message), [str(x.message) for x in w]
m = FastSAE(latent_dim=8, channels=(4, 8, 8))
m(torch.rand(2, 1, 32, 32)).sum().backward()
assert sys.modules.get('triton') is None  # refused, never imported
print('ok')
"""


def test_library_runs_without_triton():
    ("Every module of the library imports, and the fast engine trains a step, where `triton` cannot be imported "
     "(as with the CPU torch of GitHub's runners): `tools/refuse_modules.py` refuses it in a fresh interpreter")
    import os, subprocess

    env = {**os.environ, 'REFUSE_MODULES': 'triton', 'PYTHONPATH': str(ROOT / 'tools')}
    out = subprocess.run([sys.executable, '-c', WITHOUT_TRITON], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.split()[-1:] == ['ok'], out.stderr[-3000:]


def test_refused_modules_cannot_be_imported():
    "The refusal works: with REFUSE_MODULES=triton, `import triton` fails as for a package that is not installed"
    import os, subprocess

    env = {**os.environ, 'REFUSE_MODULES': 'triton json', 'PYTHONPATH': str(ROOT / 'tools')}
    code = ("import refuse_modules, importlib.util\nprint(importlib.util.find_spec('triton'))\n"
            "try:\n    import triton.language\nexcept ModuleNotFoundError as e: print(e.name.partition('.')[0])")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env)
    # asked, it is absent (torch and 92_fast_proof ask with find_spec); imported, it is missing
    assert out.stdout.split() == ['None', 'triton'], out.stderr
    late = subprocess.run([sys.executable, '-c', 'import json, refuse_modules'], capture_output=True, text=True,
                          env=env)
    assert late.returncode and 'already imported' in late.stderr  # too late to refuse: said, not ignored


def test_missing_imports_are_found():
    assert missing({'os', 'torch', 'skimage', 'spiking_sae'}, ['torch']) == ['skimage']
    assert missing({'skimage'}, ['scikit-image']) == []
    assert imports(
        "import a.b\nfrom c import d\nfrom . import e\ntry: import f\nexcept ImportError: import g\n!pip install h"
    ) == {'a', 'c', 'g'}


def export_problem(src: str) -> str:
    "Why a cell's directives would confuse nbdev: '' unless it holds more than one `#| export` line"
    n = sum(1 for line in src.splitlines() if re.match(r'\s*#\|\s*export\b', line))
    return f"{n} `#| export` lines: split it, one per cell" if n > 1 else ''


def test_one_export_per_cell():
    bad = {
        f'{nb.stem} cell {i}': p
        for nb in NBS
        for i, c in enumerate(read_nb(nb).cells)
        if c.cell_type == 'code' and (p := export_problem(c.source))
    }
    assert not bad, bad
    assert export_problem("#| export\ndef f(): pass\n#| export\nclass A: pass")  # 08_analysis cell 30, before
