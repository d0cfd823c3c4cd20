"""Write README.md from nbs/index.ipynb without Quarto (which `nbdev_readme` needs): hidden cells,
the code of `echo: false` cells and cell directives are dropped, links to docs pages made absolute, and figures \
written to README_files/."""

import re, shutil
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter
from traitlets.config import Config
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parent.parent


def _visible(cell) -> bool:
    "Is `cell` shown in the docs (no `#| hide` directive)?"
    return not any(line.strip().startswith('#|') and 'hide' in line for line in cell.source.splitlines())


def _no_echo(cell) -> bool:
    "Does `cell` say `#| echo: false` (show the output, not the code)?"
    return any(re.match(r'#\|\s*echo:\s*false\s*$', line.strip(), re.I) for line in cell.source.splitlines())


def _strip_directives(cell):
    if cell.cell_type == 'code' and _no_echo(cell):
        cell.metadata.setdefault('tags', []).append('remove_input')
    if cell.cell_type == 'code':
        cell.source = '\n'.join(line for line in cell.source.splitlines() if not line.strip().startswith('#|'))
    return cell


def readme(root=ROOT) -> tuple[str, dict]:
    "README markdown made from the index notebook, and its figures as {file name: bytes}"
    cfg = get_config(path=root)
    nb = nbformat.read(cfg.path('nbs_path') / cfg.readme_nb, as_version=4)
    nb.cells = [_strip_directives(c) for c in nb.cells if _visible(c)]
    exp = MarkdownExporter(config=Config(TagRemovePreprocessor=dict(enabled=True, remove_input_tags={'remove_input'})))
    md, res = exp.from_notebook_node(nb, resources={'output_files_dir': 'README_files'})
    md = re.sub(r'\]\((?!https?://)([\w-]+)\.html(#[\w-]+)?\)', rf']({cfg.doc_host}{cfg.doc_baseurl}/\1.html\2)', md)
    return md, res.get('outputs', {})


if __name__ == '__main__':
    md, figs = readme()
    shutil.rmtree(ROOT / 'README_files', ignore_errors=True)
    for name, data in figs.items():
        (ROOT / name).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / name).write_bytes(data)
    (ROOT / 'README.md').write_text(md)
    print(f"wrote README.md and {len(figs)} figure(s)")
