"""The offline docs (`tools/build_docs.py`) build, show no errors, hide what is hidden, keep every figure,
and render in headless Chromium: one screenshot per page in `_docs_offline/screenshots/`."""

import ast, base64, builtins, io, json, re, shutil, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import pytest, yaml
from bs4 import BeautifulSoup
from execnb.nbio import read_nb
from nbdev.process import extract_directives
from PIL import Image

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
from build_docs import OUT, build, doc_nbs, cell_options

NBS = doc_nbs(ROOT / 'nbs')
# building the pages (about a minute) and screenshotting them in Chromium: the full run's, not the quick loop's
FULL = pytest.mark.notebooks
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'  # nbconvert's mark for stderr streams and errors
# stderr lines that are not errors: tqdm progress bars (05_train) and the CLI's `==> ` notes on the data it uses
# (13_cli)
ALLOWED_STDERR = [
    r'\s*\d+%\|.*\| *\d+/\d+ \[.*\]',
    r'==> DATA: ',
    # 11_bench times bf16 on a CPU that may lack bf16 arithmetic: the package's own warning, shown as a reader gets it
    r'.*UserWarning: this CPU has no bf16 arithmetic',
    r'\s*autocast_for\(device, precision\)',
    # where torch is a CUDA build without Triton, importing torch.utils.flop_counter (11_bench) logs that it lacks it:
    # Triton is optional here (`spiking_sae[triton]`), and a warning that only says so is no error
    r'triton not found; flop counting will not work for triton kernels$',
]
# remote images: not embedded, and not fetched here (Chromium runs offline)
ALLOWED_REMOTE_IMAGES = ['https://colab.research.google.com/assets/colab-badge.svg']
HIDING = {'hide', 'export', 'exporti', 'default_exp'}  # nbdev directives that drop a cell from the docs
# After the page loads, note on <body> how many of its local images failed to decode
CHECK_JS = '''<script>addEventListener("load", () => document.body.dataset.brokenImages =
  [...document.images].filter(i => !i.src.startsWith("http") && !(i.complete && i.naturalWidth > 0)).length)</script>'''


@pytest.fixture(scope='module')
def pages():
    "{notebook name: (page path, parsed page)}, built into `_docs_offline/`"
    paths = build(OUT)
    assert len(paths) == len(NBS), f"{len(NBS)} notebooks but {len(paths)} pages"
    return {nb.name: (p, BeautifulSoup(p.read_text(encoding='utf-8'), 'html.parser')) for nb, p in zip(NBS, paths)}


def shown(nb: Path):
    "The cells of `nb` that nbdev and Quarto keep in the docs"
    cells = [c for c in read_nb(nb).cells if c.cell_type == 'code']
    return [
        c
        for c in cells
        if not (extract_directives(c, remove=False).keys() & HIDING) and cell_options(c).get('include') != 'false'
    ]


def image_outputs(nb: Path) -> int:
    "How many image outputs the shown cells of `nb` have"
    return sum(
        any(k.startswith('image/') for k in o.get('data', {}))
        for c in shown(nb)
        if cell_options(c).get('output') != 'false'
        for o in c.outputs
    )


def bare(src: str) -> str:
    "`src` without directive lines or surrounding blank space"
    return '\n'.join(line for line in src.splitlines() if not line.strip().startswith('#|')).strip()


def code_blocks(page) -> list:
    return [bare(pre.get_text()) for pre in page.select('.jp-CodeCell .jp-InputArea pre')]


@FULL
@pytest.mark.parametrize('nb', [p.name for p in NBS])
def test_no_error_output(pages, nb):
    _, page = pages[nb]
    bad = [
        line
        for o in page.select(STDERR)
        for line in re.split(r'[\r\n]+', o.get_text())
        if line.strip() and not any(re.match(p, line) for p in ALLOWED_STDERR)
    ]
    assert not bad, f"{nb}: stderr or error output on the page:\n" + '\n'.join(bad[:20])
    assert not [o for o in page.select('.jp-OutputArea-output') if 'Traceback' in o.get_text()], (
        f"{nb}: a traceback on the page"
    )


def check_src(src: str):
    "Fail unless the image source `src` is a decodable data URI or an allowed remote image"
    assert src, "an <img> with no src"
    if src.startswith('http'):
        assert src in ALLOWED_REMOTE_IMAGES, f"remote image {src} is not embedded"
        return
    m = re.match(r'data:(image/[\w+.-]+);base64,(.*)', src, re.S)
    assert m, f"image not embedded inline: {src[:80]}"
    data = base64.b64decode(m[2])
    if m[1] == 'image/svg+xml':
        assert b'<svg' in data[:1000]
    else:
        Image.open(io.BytesIO(data)).verify()


@FULL
@pytest.mark.parametrize('nb', [p.name for p in NBS])
def test_images_embedded_and_kept(pages, nb):
    _, page = pages[nb]
    for img in page.select('img'):
        check_src(img.get('src', ''))
    figs = page.select('.jp-OutputArea-output img, .jp-OutputArea-output svg')
    assert len(figs) >= image_outputs(ROOT / 'nbs' / nb), (
        f"{nb} has {image_outputs(ROOT / 'nbs' / nb)} image outputs but its page {len(figs)}"
    )


def test_pages_have_figures():
    assert sum(map(image_outputs, NBS)) > 0, "no notebook has an image output: does image_outputs still find them?"


@FULL
@pytest.mark.parametrize('nb', [p.name for p in NBS])
def test_hidden_cells_hidden(pages, nb):
    _, page = pages[nb]
    blocks, cells = code_blocks(page), read_nb(ROOT / 'nbs' / nb).cells
    visible = {bare(c.source) for c in shown(ROOT / 'nbs' / nb)}
    hidden = {bare(c.source) for c in cells if c.cell_type == 'code' and bare(c.source)} - visible
    assert not hidden & set(blocks), f"{nb}: hidden cells are on the page:\n" + '\n---\n'.join(hidden & set(blocks))
    raw = [
        line
        for b in page.select('.jp-CodeCell .jp-InputArea pre')
        for line in b.get_text().splitlines()
        if line.strip().startswith('#|')
    ]
    assert not raw, f"{nb}: directives shown: {raw[:5]}"
    assert '{target=' not in page.get_text(), f"{nb}: Pandoc link attributes shown as text"


@FULL
def test_index_links_pages_in_sidebar_order(pages):
    def flat(cs):
        return [x for c in cs for x in ([c] if isinstance(c, str) else flat(c['contents']))]

    side = flat(yaml.safe_load((ROOT / 'nbs' / 'sidebar.yml').read_text())['website']['sidebar']['contents'])
    want = [re.sub(r'^\d+_', '', Path(f).stem) + '.html' for f in side]
    index = BeautifulSoup((OUT / 'index.html').read_text(encoding='utf-8'), 'html.parser')
    assert [a['href'] for a in index.select('#offline-sidebar a')] == want
    built = {p.name for p, _ in pages.values()}
    assert set(want) == built, (
        f"pages not in nbs/sidebar.yml: {sorted(built - set(want))}; listed but not built: {sorted(set(want) - built)}"
    )


def chromium():
    "The Chromium (or Chrome) to run, or `None`"
    return next(filter(None, map(shutil.which, ('chromium', 'chromium-browser', 'google-chrome'))), None)


NO_CHROMIUM = "Chromium is needed for the docs screenshots: `apt-get install chromium` (.ci/run does it)"

FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    '--window-size=1280,2000',
    '--host-resolver-rules=MAP * ~NOTFOUND',
]  # offline: pages must stand alone


def shoot(exe, page: Path, png: Path, tmp: Path) -> str:
    "Screenshot `page` into `png` (via a copy that notes broken images on <body>); the DOM after load"
    copy = tmp / page.name
    copy.write_text(page.read_text(encoding='utf-8').replace('</body>', CHECK_JS + '</body>', 1), encoding='utf-8')
    res = subprocess.run(
        [exe, *FLAGS, f'--screenshot={png}', '--dump-dom', copy.as_uri()], capture_output=True, text=True, timeout=60
    )
    return res.stdout


@pytest.fixture(scope='module')
def shots(pages, tmp_path_factory):
    "{notebook name: (screenshot, DOM after load)}, three browsers at a time; `None` without Chromium"
    exe, tmp, out = chromium(), tmp_path_factory.mktemp('pages'), OUT / 'screenshots'
    if not exe:
        return None
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    shutil.copy(OUT / 'styles.css', tmp)
    todo = {nb: (p, out / f'{p.stem}.png') for nb, (p, _) in pages.items()}
    with ThreadPoolExecutor(3) as ex:
        doms = dict(zip(todo, ex.map(lambda v: shoot(exe, *v, tmp), todo.values())))
    return {nb: (todo[nb][1], doms[nb]) for nb in todo}


@FULL
@pytest.mark.parametrize('nb', [p.name for p in NBS])
def test_page_renders_in_chromium(shots, nb):
    assert shots is not None, NO_CHROMIUM  # fail, not skip: CI installs it
    png, dom = shots[nb]
    assert png.is_file(), f"no screenshot of {nb}'s page"
    img = Image.open(png).convert('RGB')
    colours = img.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 16, f"{png} is nearly blank ({len(colours)} colours)"
    m = re.search(r'data-broken-images="(\d+)"', dom)
    assert m, f"{nb}: the page did not finish loading in Chromium"
    assert m[1] == '0', f"{nb}: {m[1]} image(s) did not decode in Chromium"


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_no_code_in_markdown_cells(nb):
    "A cell that starts with a directive is code: as markdown it would be printed on the page, never run"
    stray = [
        c.source[:60] for c in read_nb(nb).cells if c.cell_type == 'markdown' and c.source.lstrip().startswith('#|')
    ]
    assert not stray, f"{nb.name}: markdown cells that hold code: {stray}"


# Names a reader may see used without an import on the page: the check helpers under the examples, and show_doc
FROM_HIDDEN_CELLS_OK = {
    'show_doc',
    'test_eq',
    'test_ne',
    'test_close',
    'test_fail',
    'test_is',
    'test_eq_type',
    'test_stdout',
    'test_warns',
    'test_shuffled',
    'test_fig_exists',
    'test_sig',
    'equals',
    'nequals',
    'is_close',
}


def _names(src: str) -> tuple[set, set, set]:
    "(imported, otherwise bound, loaded) names of a code cell; IPython's `!` and `%` lines are skipped"
    tree = ast.parse('\n'.join('pass' if re.match(r'\s*[!%]', line) else line for line in src.splitlines()))
    imp, bound, used = set(), set(), set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            imp |= {(a.asname or a.name).split('.')[0] for a in n.names}
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.Name):
            (used if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
    return imp, bound, used


def hidden_names_used(nb: Path) -> dict:
    "{cell index: names} for code the page shows that uses a name only hidden code imports or defines"
    shown_bound, hidden_bound, api, uses = set(), set(), set(), {}
    for i, c in enumerate(read_nb(nb).cells):
        if c.cell_type != 'code':
            continue
        imp, bound, used = _names(c.source)
        dirs, opts = extract_directives(c, remove=False).keys(), cell_options(c)
        if dirs & HIDING or opts.get('include') == 'false' or opts.get('echo') == 'false':
            hidden_bound |= imp | bound
            if dirs & {'export', 'exporti'}:
                api |= bound  # the module's own functions: the page documents them
        else:
            shown_bound |= imp | bound
            uses[i] = used - imp - bound
    only_hidden = hidden_bound - shown_bound - api - FROM_HIDDEN_CELLS_OK - set(dir(builtins))
    return {i: sorted(u & only_hidden) for i, u in uses.items() if u & only_hidden}


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_shown_code_imports_what_it_uses(nb):
    "A reader who copies the code a page shows gets every import with it, none of them only in hidden cells"
    missing = hidden_names_used(nb)
    assert not missing, f"{nb.name}: shown cells use names imported or defined only in hidden cells {missing}"


def test_hidden_names_are_found(tmp_path):
    "The check above can fail: a shown cell using a name that only a hidden cell imports"
    nb = tmp_path / 't.ipynb'
    cells = [
        dict(cell_type='code', source=s, metadata={}, outputs=[], execution_count=None)
        for s in (
            '#| export\nimport torch',
            '#| hide\nfrom pathlib import Path\nfrom fastcore.test import *',
            '#| export\ndef f(): pass',
            'x = torch.zeros(1); f(); test_eq(1, 1)\nPath(".")',
            'import torch',
        )
    ]
    nb.write_text(json.dumps(dict(cells=cells, metadata={}, nbformat=4, nbformat_minor=5)))
    assert hidden_names_used(nb) == {3: ['Path']}
