"""Build the docs site offline, without Quarto (which the GitHub deploy workflow uses).

Each page starts from what Quarto is given: nbdev's processed notebook (`show_doc` cells run and shown
as markdown, `#| hide` and `#| export` cells dropped, nbdev directives stripped). The Quarto cell options
nbdev leaves (`echo`, `output`, `include`, ...) are then applied by hand, and nbconvert renders a
standalone HTML page with its images inline. `index.html` (from `index.ipynb`, as on the real site) and
every other page carry a sidebar in the order and with the sections of `nbs/sidebar.yml`.

    python tools/build_docs.py [OUT_DIR]     # default: _docs_offline/
"""

import html, re, shutil, sys, tempfile
from pathlib import Path
import nbformat, yaml
from execnb.nbio import read_nb, write_nb
from fastcore.xtras import modified_env, working_directory
from nbconvert import HTMLExporter
from nbdev.config import get_config
from nbdev.processors import FilterDefaults

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / '_docs_offline'


def doc_nbs(nbs: Path) -> list:
    "The notebooks that become pages: `nbs/*.ipynb` without the `_`-prefixed ones"
    return sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith('_'))


def process(src: Path, dst: Path):
    "Write to `dst` what Quarto is given for `src`: nbdev's default docs processing (as `nbdev.serve_drv`)"
    nb = read_nb(src)
    with modified_env(IN_TEST='1'):
        FilterDefaults()(nb)
    write_nb(nb, dst)


_re_opt = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')


def cell_options(cell) -> dict:
    "The Quarto options (`#| key: value` lines, values lower-cased) at the top of a code cell"
    opts = {}
    for line in cell.source.splitlines():
        if not line.strip().startswith('#|'):
            break
        if m := _re_opt.match(line):
            opts[m[1]] = m[2].strip('\'"').lower()
    return opts


def strip_options(src: str) -> str:
    "`src` without its leading `#|` lines"
    lines = src.splitlines()
    while lines and lines[0].strip().startswith('#|'):
        lines.pop(0)
    return '\n'.join(lines)


_re_attr_link = re.compile(r'\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}')


def html_links(md: str) -> str:
    ("Links with Pandoc attributes, `[text](url){target=\"_blank\"}`, which only Quarto reads: HTML if alone on a "
     "line, else plain")
    md = re.sub(rf'^{_re_attr_link.pattern}$', r'<div><a href="\2" \3>\1</a></div>', md, flags=re.M)
    return _re_attr_link.sub(r'[\1](\2)', md)


def apply_options(cell):
    "Do what Quarto does with `cell`'s options: `None` if `include: false`, else the cell to show"
    if cell.cell_type == 'markdown':
        cell.source = html_links(cell.source)
    if cell.cell_type != 'code':
        return cell
    for o in cell.outputs:
        if 'text/markdown' in o.get('data', {}):
            o.data['text/markdown'] = html_links(o.data['text/markdown'])
    opts = cell_options(cell)
    if opts.get('include') == 'false':
        return None
    if opts.get('echo') == 'false':
        cell.metadata['transient'] = {'remove_source': True}
    if opts.get('output') == 'false':
        cell.outputs = []
    cell.source = strip_options(cell.source)
    return cell


def frontmatter(nb) -> dict:
    "The YAML frontmatter nbdev puts in the first (raw) cell: title, description, output-file"
    c = nb.cells[0] if nb.cells else None
    if not c or c.cell_type != 'raw' or not c.source.startswith('---'):
        return {}
    return yaml.safe_load(c.source.strip().strip('-')) or {}


def title_cell(fm: dict):
    "A markdown cell showing the page title and description, as Quarto's title block does"
    desc = f'\n\n<div class="description">{html.escape(fm["description"])}</div>' if fm.get('description') else ''
    return nbformat.v4.new_markdown_cell(f"# {fm.get('title', '')}{desc}")


def quarto_nb(path: Path):
    "The processed notebook at `path` as Quarto would show it, and its frontmatter"
    nb = nbformat.read(path, as_version=4)
    fm = frontmatter(nb)
    cells = [apply_options(c) for c in (nb.cells[1:] if fm else nb.cells)]
    nb.cells = ([title_cell(fm)] if fm else []) + [c for c in cells if c is not None]
    return nb, fm


def sidebar(nbs: Path, titles: dict) -> str:
    ("HTML for the sidebar in `nbs/sidebar.yml`: a list of links, sections as headings; `titles` maps notebook to "
     "(page, title)")

    def item(o):
        if isinstance(o, str) and o not in titles:
            raise ValueError(f"nbs/sidebar.yml lists {o}, which is not a docs notebook")
        if isinstance(o, str):
            return f'<li><a href="{titles[o][0]}">{html.escape(titles[o][1])}</a></li>'
        return (
            f'<li class="section"><b>{html.escape(o["section"])}</b><ul>{"".join(map(item, o["contents"]))}</ul></li>'
        )

    contents = yaml.safe_load((nbs / 'sidebar.yml').read_text())['website']['sidebar']['contents']
    return f'<nav id="offline-sidebar"><ul>{"".join(map(item, contents))}</ul></nav>'


LAYOUT = '''<link rel="stylesheet" href="styles.css">
<style>#offline-sidebar {position: fixed; top: 0; left: 0; width: 230px; height: 100%; overflow: auto;
  padding: 1rem; border-right: 1px solid #ddd; background: #f8f9fa; font: 14px sans-serif; box-sizing: border-box}
#offline-sidebar ul {list-style: none; padding-left: .8rem} #offline-sidebar > ul {padding-left: 0}
#offline-sidebar li {margin: .3rem 0} body > main {margin-left: 240px}</style>
'''


def render(nb, title: str, nbs: Path, nav: str, site: str) -> str:
    "Standalone HTML for `nb`: images inline, the sidebar `nav`, links to `site` made relative"
    exp = HTMLExporter(embed_images=True, exclude_input_prompt=True, exclude_output_prompt=True)
    page, _ = exp.from_notebook_node(nb, resources={'metadata': {'path': str(nbs), 'name': title}})
    page = page.replace('</head>', LAYOUT + '</head>', 1).replace('<main>', nav + '\n<main>', 1)
    return page.replace(site, '')


def page_name(src: Path, fm: dict) -> str:
    "The page Quarto writes for `src`: the frontmatter's `output-file`, else its name less the number"
    return fm.get('output-file') or re.sub(r'^\d+_', '', src.stem) + '.html'


def processed(nbs: Path) -> dict:
    "{notebook name: (notebook as Quarto shows it, page file name, title)} for every docs notebook"
    res = {}
    with tempfile.TemporaryDirectory(prefix='_proc') as tmp:
        for src in doc_nbs(nbs):
            process(src, Path(tmp) / src.name)
            nb, fm = quarto_nb(Path(tmp) / src.name)
            res[src.name] = nb, page_name(src, fm), fm.get('title', src.stem)
    return res


def build(out_dir=OUT) -> list:
    "Build the offline docs into `out_dir`; the pages written, in the order of `doc_nbs`"
    out = Path(out_dir).resolve()
    with working_directory(ROOT):
        cfg = get_config()
        nbs, site = cfg.path('nbs_path'), f'{cfg.doc_host}{cfg.doc_baseurl}/'
        pages = processed(nbs)
        nav = sidebar(nbs, {k: (name, title) for k, (_, name, title) in pages.items()})
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob('*.html'):
        old.unlink()
    for nb, name, title in pages.values():
        (out / name).write_text(render(nb, title, nbs, nav, site), encoding='utf-8')
    shutil.copy(nbs / 'styles.css', out)
    return [out / name for _, name, _ in pages.values()]


if __name__ == '__main__':
    for p in build(sys.argv[1] if len(sys.argv) > 1 else OUT):
        print(p)
