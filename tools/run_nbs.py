"""Execute notebooks in place with their full (non-test) budgets, keeping outputs for the docs and the README.

    python tools/run_nbs.py [NOTEBOOK ...]     # default: every notebook in nbs/

Cells flagged `cuda` are skipped when there is no GPU; cells flagged `slow` are skipped unless --slow;
`#| eval: false` cells are never run."""

import argparse, os, re, sys, time
from pathlib import Path
import torch
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbdev.process import extract_directives
from nbdev.config import get_config


def _no_eval(cell) -> bool:
    "Whether a cell says `#| eval: false` (shown in the docs, never run: nbdev's test runner skips it too)"
    return any(re.match(r'^#\|\s*eval:\s*false\s*$', line.strip(), re.I) for line in cell.source.splitlines())


def main():
    p = argparse.ArgumentParser()
    p.add_argument('nbs', nargs='*')
    p.add_argument('--slow', action='store_true')
    a = p.parse_args()
    skip = {'slow'} - ({'slow'} if a.slow else set()) | (set() if torch.cuda.is_available() else {'cuda'})
    nbs = [Path(n) for n in a.nbs] or sorted(get_config().path('nbs_path').glob('*.ipynb'))
    os.environ.pop('IN_TEST', None)
    for fn in nbs:
        nb, t0 = read_nb(fn), time.time()

        def _skip(cell):
            return cell.cell_type == 'code' and (
                bool(skip & set(extract_directives(cell, remove=False))) or _no_eval(cell)
            )

        for cell in nb.cells:  # execnb leaves a cell's old outputs where it prints nothing new: start clean
            if cell.cell_type == 'code' and not _skip(cell):
                cell.outputs, cell.execution_count = [], None
        # execnb drops every output of a cell whose last line ends in ';' (its prints too), where Jupyter hides
        # only the last value: such a cell runs with a line `None` after it, and keeps its own source
        quiet = {id(c): c.source for c in nb.cells if c.cell_type == 'code' and c.source.rstrip().endswith(';')}
        for c in nb.cells:
            if id(c) in quiet:
                c.source = c.source.rstrip() + '\nNone'
        sh = CaptureShell(fn)
        cwd = os.getcwd()
        os.chdir(fn.parent)
        try:
            sh.run_all(nb, exc_stop=True, preproc=_skip)
        except Exception:
            sys.exit(sh.prettytb(fname=fn))
        finally:
            os.chdir(cwd)
            for c in nb.cells:
                c.source = quiet.get(id(c), c.source)
        write_nb(nb, fn)
        print(f"{fn.name}: {time.time() - t0:.0f}s", flush=True)


if __name__ == '__main__':
    main()
