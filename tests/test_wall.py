"""The wall around the Tutorial. The Tutorial notebooks (the sidebar's "Tutorial" section) teach the model and its
science, in order; option rules, precision, devices, resume, signals, several processes, downloads and results
plumbing live in the other sections. A shown cell of a Tutorial notebook may not use a name that a later notebook
defines, nor one of those subjects' names (`ENGINEERING`), except a few names the Tutorial borrows (`BORROWED`), each
explained in its prose (in backticks) before its first use. Each Tutorial notebook has at most 40 cells, and no shown
code cell more than 25 lines, but for a cell that holds one class statement: up to 100, so that a class (the model
is one) is seen whole, not in pieces.
`wall_problems` says what breaks the rules; the planted examples show it can."""

import ast, builtins, json, re
from pathlib import Path
import pytest, yaml

ROOT = Path(__file__).parent.parent
MAX_CELLS, MAX_LINES, MAX_CLASS_LINES = 40, 25, 100  # a class shown whole, in one statement, may take 100

ENGINEERING = {  # the subjects that live outside the Tutorial, by the names that do them
    'option validation': {
        'check_field',
        'check_limit',
        'RULES',
        'MODEL_RULES',
        'TRAIN_RULES',
        'LIMIT_RULE',
        'config_from_args',
        'validate',
    },
    'precision': {
        'autocast_for',
        'grad_scaler',
        'PRECISIONS',
        'cpu_has_bf16',
        'precision_step',
        'autocast',
        'GradScaler',
        'bfloat16',
        'float16',
    },
    'devices': {'get_device', 'cuda', 'device_count'},
    'resume': {
        'resume_run',
        'save_checkpoint',
        'load_checkpoint',
        'rng_state',
        'set_rng_state',
        'train_in',
        'partial',
    },
    'signals': {'signal', 'SIGINT', 'SIGTERM', 'StopOnSignal', 'TrainingInterrupted', 'stepwise'},
    'several processes': {
        'shard',
        'shared_loss',
        'batch_loss_sum',
        'global_batchnorm',
        'GlobalBatchNorm2d',
        'data_parallel',
        'world',
        'process_group',
        'any_process',
        'check_shares',
        'torchrun',
        'DistributedDataParallel',
        'distributed',
    },
    'downloads': {'torchvision_raw', 'default_root', 'system_dir', 'SYSTEM_DATA', 'SPIKING_SAE_DATA', 'download'},
    'results plumbing': {'measured', 'atomic_write', 'write_run', 'export_pretrained', 'results_table', 'RESULT_ROWS'},
}
BORROWED = {  # names the Tutorial uses before (or without) the chapter that defines them, and why
    'TrainConfig': "the recipe: its fields are taught in Training; its rules live in Options and their rules",
    'check_arch': "the model refuses an impossible size when it is built, said in one sentence in The encoder",
    'check_input': "the model checks its input batch first, said in one sentence in The model, shown in Options",
    'PretrainedIO': "gives `SAE` its `save_pretrained` and `from_pretrained`, said in one sentence in The model",
    'spike_trains': "every hidden layer's spikes from one forward pass, said in one sentence in The model",
    'from_pretrained': "loads the shipped weights where the Tutorial needs a trained model",
    'FastSAE': "the same model, faster, where the Tutorial trains many models",
    'get_device': "the device `fit` puts a model on (the GPU when there is one), in one sentence in Training",
    'get_data': "the sample's train and test sets; where other data sets come from is the chapter Data sets",
    'load_idx': "reads the sample's files, to show them as stored; the IDX format is an appendix",
    'time_avg_loss': "the other loss `LOSSES` names, in Training; its chapter comes next",
    'BatchNormOverTime': "the BatchNorm that `SAE(bn_stats='over_time')` builds, named in one sentence in The model",
    'forward_over_time': "the training forward of such a model, layer by layer, named in the same sentence",
}


def sidebar(root=ROOT) -> dict:
    "Each notebook's section, in sidebar order"
    out = {}

    def walk(items, section):
        for it in items:
            if isinstance(it, str):
                out[it] = section
            else:
                walk(it['contents'], it.get('section', section))

    walk(yaml.safe_load((root / 'nbs' / 'sidebar.yml').read_text())['website']['sidebar']['contents'], None)
    return out


def cells(nb: Path) -> list:
    return json.loads(nb.read_text())['cells']


def directives(src: str) -> set:
    return {re.sub(r'\s+', ' ', line[3:].strip()) for line in src.splitlines() if line.startswith('#|')}


def shown(cell) -> bool:
    "A code cell whose code the rendered page shows"
    d = directives(''.join(cell['source']))
    return (
        cell['cell_type'] == 'code'
        and not d & {'hide', 'echo: false', 'include: false', 'default_exp'}
        and not any(x.startswith('default_exp') for x in d)
    )


def parse(src: str) -> ast.Module:
    return ast.parse('\n'.join('pass' if re.match(r'\s*[!%]', line) else line for line in src.splitlines()))


def exported_names(nb: Path) -> set:
    "The top-level names a notebook's exported cells define"
    out = set()
    for c in cells(nb):
        if c['cell_type'] != 'code' or not any(d.startswith('export') for d in directives(''.join(c['source']))):
            continue
        for node in parse(''.join(c['source'])).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    out |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return out - {'__all__'}


def used_and_bound(tree) -> tuple[dict, set, dict]:
    "The names a cell uses (with their line), those it binds itself, and the words it uses (strings, keywords)"
    used, bound, words = {}, set(), {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            (bound.add(n.id) if isinstance(n.ctx, ast.Store) else used.setdefault(n.id, n.lineno))
        elif isinstance(n, ast.Attribute):
            used.setdefault(n.attr, n.lineno)
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, ast.ImportFrom):
            words.update({a.name: -n.lineno for a in n.names})  # imported: line < 0
        elif isinstance(n, ast.Import):
            words.update({a.name.split('.')[-1]: -n.lineno for a in n.names})
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and re.fullmatch(r'[A-Za-z_]\w*', n.value):
            words.setdefault(n.value, n.lineno)
        elif isinstance(n, ast.keyword) and n.arg:
            words.setdefault(n.arg, n.lineno)
    return used, bound, words


def explained(name: str, texts: list) -> bool:
    return any(f'`{name}' in t for t in texts)


def wall_problems(nbs: list, section: dict) -> list:
    "What breaks the wall, in the notebooks `nbs` (sidebar order), `section` naming each one's section"
    defined_by = {}
    for nb in nbs:
        for name in exported_names(nb):
            defined_by.setdefault(name, nb.name)
    order = {nb.name: i for i, nb in enumerate(nbs)}
    engineering = {n: subject for subject, names in ENGINEERING.items() for n in names}
    problems, prose = [], []
    for nb in nbs:
        if section.get(nb.name) != 'Tutorial':
            continue
        cs = cells(nb)
        if len(cs) > MAX_CELLS:
            problems.append(f"{nb.name}: {len(cs)} cells, more than {MAX_CELLS}")
        own = set()  # names this notebook binds itself, anywhere
        for c in cs:
            if c['cell_type'] == 'code':
                own |= used_and_bound(parse(''.join(c['source'])))[1]
        for i, c in enumerate(cs):
            src = ''.join(c['source'])
            if c['cell_type'] == 'markdown':
                prose.append(src)
                continue
            if not shown(c):
                continue
            lines = [line for line in src.splitlines() if not line.startswith('#|')]
            body = parse(src).body
            most = MAX_CLASS_LINES if len(body) == 1 and isinstance(body[0], ast.ClassDef) else MAX_LINES
            if len(lines) > most:
                problems.append(f"{nb.name} cell {i}: {len(lines)} lines shown, more than {most}")
            used, _, words = used_and_bound(parse(src))
            for name, line in sorted({**words, **used}.items()):
                if name in dir(builtins):
                    continue
                imported = line < 0  # an import line comes before any prose: a borrowed name needs no explanation there
                later = (
                    (name in used or imported)
                    and defined_by.get(name)
                    and order[defined_by[name]] > order[nb.name]
                    and name not in own
                )  # a string or a keyword argument is only looked up in `ENGINEERING`
                subject = engineering.get(name)
                if not (later or subject):
                    continue
                if name in BORROWED and (imported or explained(name, prose)):
                    continue
                why = f"belongs to {subject}" if subject else f"is defined later, in {defined_by[name]}"
                problems.append(f"{nb.name} cell {i} line {abs(line)}: `{name}` {why}")
    return problems


def tutorial_order(root=ROOT) -> tuple[list, dict]:
    section = sidebar(root)
    return [root / 'nbs' / n for n in section if n.endswith('.ipynb')], section


def test_the_tutorial_stays_within_its_wall():
    nbs, section = tutorial_order()
    assert [n for n, s in section.items() if s == 'Tutorial'], "the sidebar has no Tutorial section"
    problems = wall_problems(nbs, section)
    assert not problems, '\n'.join(problems)


def _notebook(path: Path, cells: list) -> Path:
    "A notebook of `cells`: strings are code cells, ('md', text) markdown ones"
    nb = [
        dict(cell_type='markdown', metadata={}, source=c[1])
        if isinstance(c, tuple)
        else dict(cell_type='code', metadata={}, outputs=[], execution_count=None, source=c)
        for c in cells
    ]
    path.write_text(json.dumps(dict(cells=nb, metadata={}, nbformat=4, nbformat_minor=5)))
    return path


def _planted(tmp_path, cells: list) -> list:
    ("The problems of a Tutorial notebook of `cells`, followed by an appendix notebook that exports `helper` "
     "and `FastSAE`")
    a = _notebook(tmp_path / 'a.ipynb', cells)
    b = _notebook(tmp_path / 'b.ipynb', ['#| export\ndef helper(): pass\nclass FastSAE: pass'])
    return wall_problems([a, b], {'a.ipynb': 'Tutorial', 'b.ipynb': 'Appendix'})


@pytest.mark.parametrize(
    'src, says',
    [
        ("with autocast_for('cpu', 'bf16'): loss = final_step_loss(sae, x)", "`autocast_for` belongs to precision"),
        ("from spiking_sae.runs import train_in", "`train_in` belongs to resume"),
        ("n = torch.cuda.device_count()", "`device_count` belongs to devices"),
        ("print(measured('results'))", "`measured` belongs to results plumbing"),
        ("os.environ['SPIKING_SAE_DATA'] = '/data'", "`SPIKING_SAE_DATA` belongs to downloads"),
        ("helper()", "`helper` is defined later, in b.ipynb"),
        ("\n".join(f"x{i} = {i}" for i in range(26)), "26 lines shown, more than 25"),
        ("class A:\n" + "\n".join(f"    x{i} = {i}" for i in range(100)), "101 lines shown, more than 100"),
        ("class A:\n    pass\n" + "\n".join(f"x{i} = {i}" for i in range(25)), "27 lines shown, more than 25"),
    ],
)
def test_planted_violations_are_found(tmp_path, src, says):
    assert any(says in p for p in _planted(tmp_path, [src])), _planted(tmp_path, [src])


def test_what_passes_the_wall(tmp_path):
    "Hidden cells, names the notebook binds itself, and plain PyTorch pass; so does a borrowed name, once explained"
    ok = [
        '#| hide\nfrom spiking_sae.precision import autocast_for',
        'def helper(): return 1\nhelper()',
        'import torch\nx = torch.zeros(3).mean()',
        ('md', 'The fast engine, `FastSAE`, computes the same.'),
        'from spiking_sae.fast import FastSAE',
        'm = FastSAE()',
        'class Whole:\n' + '\n'.join(f'    x{i} = {i}' for i in range(99)),  # one class statement, 100 lines
    ]
    assert _planted(tmp_path, ok) == []
    assert any(
        '`FastSAE`' in p for p in _planted(tmp_path, ['m = FastSAE()', ('md', 'Now `FastSAE`.')])
    )  # explained after
    assert any('`helper`' in p for p in _planted(tmp_path, ['from b import helper']))  # imported, and not borrowed


def test_too_many_cells_are_found(tmp_path):
    assert any('41 cells, more than 40' in p for p in _planted(tmp_path, ['pass'] * 41))


def numbering_problems(order: list, on_disk: set) -> list:
    "What is wrong with the numbers of the notebooks `order` (in sidebar order) against those `on_disk`"
    numbered = [n for n in order if n[:2].isdigit()]
    out = [f"{a} comes before {b} in the sidebar" for a, b in zip(numbered, numbered[1:]) if int(a[:2]) >= int(b[:2])]
    out += [f"{n} is not in the sidebar" for n in sorted(on_disk - set(numbered))]
    out += [f"{n} is in the sidebar but not in nbs/" for n in numbered if n not in on_disk]
    return out


def test_notebooks_are_numbered_in_sidebar_order():
    "A notebook's number is its place in the sidebar (its name, which makes its URL, stays when it moves)"
    on_disk = {p.name for p in (ROOT / 'nbs').glob('[0-9][0-9]_*.ipynb')}
    assert numbering_problems(list(sidebar()), on_disk) == []


def test_a_notebook_out_of_order_is_found():
    order = ['index.ipynb', '01_a.ipynb', '03_c.ipynb', '02_b.ipynb', '05_e.ipynb']
    assert numbering_problems(order, {'01_a.ipynb', '02_b.ipynb', '03_c.ipynb', '04_d.ipynb'}) == [
        "03_c.ipynb comes before 02_b.ipynb in the sidebar", "04_d.ipynb is not in the sidebar",
        "05_e.ipynb is in the sidebar but not in nbs/"]


def _prints(src: str) -> bool:
    ("Whether running `src` calls `print` (not counting the bodies of the functions and classes it defines), or ends "
     "in `Markdown(...)`, the text of a cell whose code the page hides")
    try:
        tree = parse(src)
    except SyntaxError:
        return False

    def run(node):
        for n in ast.iter_child_nodes(node):
            if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                yield n
                yield from run(n)

    last = tree.body[-1] if tree.body else None  # a cell that ends in `Markdown(...)` shows that text
    shows = (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and isinstance(last.value.func, ast.Name)
             and last.value.func.id == 'Markdown' and not src.rstrip().endswith(';'))
    return shows or any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == 'print'
                        for n in run(tree))


def silent_printers(cells: list) -> list:
    "Indices of code cells that print but hold no stored text output (cells that run only on a GPU, or never, aside)"
    def has_text(c):  # a figure's own `text/plain` (its repr) is not text the cell printed
        return any(o.get('name') == 'stdout' or o.get('output_type') == 'execute_result'
                   or 'text/markdown' in o.get('data', {}) for o in c.get('outputs', []))

    src = [''.join(c['source']) for c in cells]
    return [i for i, (c, s) in enumerate(zip(cells, src)) if c['cell_type'] == 'code'
            and not directives(s) & {'cuda', 'slow', 'eval: false'} and _prints(s) and not has_text(c)]


def test_every_page_shows_what_its_code_prints():
    "A shown page holds the text its cells print: a notebook re-run after its code changed (tools/run_nbs.py)"
    found = {nb: silent_printers(cells(ROOT / 'nbs' / nb)) for nb in sidebar()}
    assert {nb: i for nb, i in found.items() if i} == {}


def test_a_cell_that_prints_nothing_is_found():
    out = {'output_type': 'stream', 'name': 'stdout', 'text': ['1\n']}
    cs = [{'cell_type': 'code', 'source': ['print(1)'], 'outputs': [out]},
          {'cell_type': 'code', 'source': ['for i in range(2):\n    print(i)'], 'outputs': []},
          {'cell_type': 'code', 'source': ['def f():\n    print(1)'], 'outputs': []},
          {'cell_type': 'code', 'source': ['#| cuda\nprint(1)'], 'outputs': []},
          {'cell_type': 'code', 'source': ['print(1)\nplt.plot([1]);'],  # a figure alone: what execnb kept
           'outputs': [{'output_type': 'display_data', 'data': {'image/png': '', 'text/plain': ['<Figure>']}}]},
          {'cell_type': 'code', 'source': ['#| echo: false\nMarkdown(f"{1}")'], 'outputs': []},  # its text lost
          {'cell_type': 'code', 'source': ['#| echo: false\nMarkdown(f"{1}")'],
           'outputs': [{'output_type': 'execute_result', 'data': {'text/markdown': ['1']}}]}]
    assert silent_printers(cs) == [1, 4, 5]
