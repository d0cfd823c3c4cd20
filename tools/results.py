"""The results table of the docs: baselines, the presets and the non-spiking twin, on the MNIST sample and \
Fashion-MNIST.

    python tools/results.py [--fashion-dir /usr/share/datasets/fashion-mnist] [--runs runs] [--train ROW ...] \
[--no-train]

Each trained row is a run directory in runs/: `{data}-{preset}` made by `spiking-sae train --preset ...`
(the README's command) and `{data}-twin`, the non-spiking twin trained with the `best` preset: the default,
`pooled`, is `best` with BatchNorm statistics pooled over time steps and β, θ learnt; a network without time
steps or spiking neurons has nothing for those two to act on (and `pooled` refuses it), so the twin trains with
the rest of the recipe, at the same budget. A finished
run is measured; an interrupted one is resumed and a missing one trained, when its row is one of --train
(default: all). A row whose run is missing and may not be trained keeps its numbers from the existing
results file, which this script wrote when that run was there, and the file says so under "reused";
otherwise it says "not run". Baselines are always measured again. Everything is measured on the whole
test set by `spiking_sae.evaluation.quality`; the markdown table is printed and the numbers kept in
spiking_sae/results/results.json, which the home page shows."""

import argparse, json
from pathlib import Path
from spiking_sae.cli import run as cli
from spiking_sae.datasets import get_split
from spiking_sae.evaluation import baselines, quality
from spiking_sae.analysis import TwinAE
from spiking_sae.results import RESULT_ROWS, results_table
from spiking_sae.engines import engine
from spiking_sae.recipes import PRESETS
from spiking_sae.io import load_checkpoint, load_model
from spiking_sae.runs import train_in

TRAINED = [k for k in RESULT_ROWS if k in PRESETS or k == 'twin']  # the rows that are training runs


def finished(run: Path) -> bool:
    "Whether `run` holds a run that trained all its epochs"
    m = run / 'metrics.json'
    return (
        m.is_file()
        and len(json.loads(m.read_text())['history'])
        == load_checkpoint(run / 'checkpoint.pt')['train_config']['epochs']
    )


def sae_run(run: Path, preset: str, data_args: list, train: bool):
    "The trained model of `run`, trained or resumed first with `spiking-sae train` when needed and allowed"
    if not finished(run):
        if not train:
            return None
        cli(
            [
                'train',
                '--preset',
                preset,
                '--out',
                str(run),
                '--quiet',
                *data_args,
                *(['--resume'] if (run / 'checkpoint.pt').exists() else []),
            ]
        )
    return load_model(run / 'checkpoint.pt', cls=engine('fast'))


def twin_run(run: Path, trn, tst, train: bool):
    "The non-spiking twin trained with the `best` preset (`train_in(..., cls=TwinAE)`): the default's, for a twin"
    if not finished(run):
        if not train:
            return None
        train_in(
            run, PRESETS['best'], trn, tst, resume=(run / 'checkpoint.pt').exists(), progress=False, cls=TwinAE
        )
    return load_model(run / 'checkpoint.pt', cls=TwinAE)


def measure(name: str, data_args: list, runs: Path, train: set, old: dict) -> dict:
    "Every row's `quality` on one data set; rows neither on disk nor to be trained are taken from `old`"
    trn, tst = (get_split(*_split_args(data_args), s) for s in ('train', 'test'))
    res, reused = baselines(trn, tst), []
    for row in TRAINED:
        run = runs / f'{name}-{row}'
        m = twin_run(run, trn, tst, row in train) if row == 'twin' else sae_run(run, row, data_args, row in train)
        res[row] = quality(m, tst) if m is not None else old.get(row)
        if m is None and old.get(row) is not None:
            reused.append(row)
    if reused:
        res['reused'] = reused
    return res


def _split_args(data_args):
    "`get_split`'s dataset and data_dir from CLI data options"
    return ('auto', data_args[1]) if data_args[:1] == ['--data-dir'] else (data_args[1], None)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        '--fashion-dir',
        default='/usr/share/datasets/fashion-mnist',
        help="Fashion-MNIST IDX files; missing: torchvision download",
    )
    p.add_argument('--runs', default='runs', type=Path)
    p.add_argument(
        '--out',
        default='spiking_sae/results/results.json',
        type=Path,
        help="where the numbers go (the home page reads spiking_sae/results/results.json)",
    )
    p.add_argument(
        '--train',
        nargs='+',
        choices=TRAINED,
        default=TRAINED,
        help="rows that may be trained when their run is missing",
    )
    p.add_argument(
        '--no-train', action='store_true', help="train nothing: measure the runs already finished, reuse the rest"
    )
    a = p.parse_args()
    train = set() if a.no_train else set(a.train)
    old = json.loads(a.out.read_text()) if a.out.exists() else {}
    fashion = ['--data-dir', a.fashion_dir] if Path(a.fashion_dir).is_dir() else ['--dataset', 'fashion-mnist']
    results = {
        'MNIST sample': measure('sample', ['--dataset', 'sample'], a.runs, train, old.get('MNIST sample', {})),
        'Fashion-MNIST': measure('fashion', fashion, a.runs, train, old.get('Fashion-MNIST', {})),
    }
    a.out.write_text(json.dumps(results, indent=1))
    print(results_table(results))
