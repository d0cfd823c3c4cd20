"""The results table of the docs: baselines, the tutorial preset and the better preset, on the MNIST sample and Fashion-MNIST.

    python tools/results.py [--fashion-dir /usr/share/datasets/fashion-mnist] [--runs runs] [--no-train]

Each trained row is a run directory in runs/: `{data}-{preset}` made by `spiking-sae train --preset ...`
(the README's command) and `{data}-twin`, the non-spiking twin trained with the better preset. A finished
run is reused, an interrupted one resumed, a missing one trained (unless --no-train: then the row says
"not run"). Everything is then measured on the whole test set by `spiking_sae.evaluation.quality`; the
markdown table is printed and the numbers kept in nbs/results.json, which the home page shows."""
import argparse, json
from pathlib import Path
from spiking_sae.cli import main as cli
from spiking_sae.data import get_split
from spiking_sae.evaluation import TwinAE, baselines, quality
from spiking_sae.fast import FastSAE
from spiking_sae.hub import results_table
from spiking_sae.train import PRESETS, fit, load_checkpoint, load_model

def finished(run:Path) -> bool:
    "Whether `run` holds a run that trained all its epochs"
    m = run/'metrics.json'
    return m.is_file() and len(json.loads(m.read_text())['history']) == load_checkpoint(run/'checkpoint.pt')['train_config']['epochs']

def sae_run(run:Path, preset:str, data_args:list, train:bool):
    "The trained model of `run`, trained or resumed first with `spiking-sae train` when needed and allowed"
    if not finished(run):
        if not train: return None
        cli(['train', '--preset', preset, '--out', str(run), '--quiet', *data_args, *(['--resume'] if (run/'checkpoint.pt').exists() else [])])
    return load_model(run/'checkpoint.pt', cls=FastSAE)

def twin_run(run:Path, trn, tst, train:bool):
    "The non-spiking twin trained with the better preset (`fit(..., cls=TwinAE)`)"
    if not finished(run):
        if not train: return None
        fit(PRESETS['better'], trn, tst, run, progress=False, cls=TwinAE, resume=(run/'checkpoint.pt').exists())
    return load_model(run/'checkpoint.pt', cls=TwinAE)

def measure(name:str, data_args:list, runs:Path, train:bool) -> dict:
    "Every row's `quality` on one data set"
    trn, tst = (get_split(*_split_args(data_args), s) for s in ('train', 'test'))
    res = baselines(trn, tst)
    for preset in ('tutorial', 'better'):
        m = sae_run(runs/f'{name}-{preset}', preset, data_args, train)
        res[preset] = quality(m, tst) if m is not None else None
    t = twin_run(runs/f'{name}-twin', trn, tst, train)
    res['twin'] = quality(t, tst) if t is not None else None
    return res

def _split_args(data_args):
    "`get_split`'s dataset and data_dir from CLI data options"
    return ('auto', data_args[1]) if data_args[:1] == ['--data-dir'] else (data_args[1], None)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--fashion-dir', default='/usr/share/datasets/fashion-mnist', help="Fashion-MNIST IDX files; missing: torchvision download")
    p.add_argument('--runs', default='runs', type=Path)
    p.add_argument('--out', default='nbs/results.json', type=Path, help="where the numbers go (the home page reads nbs/results.json)")
    p.add_argument('--no-train', action='store_true', help="measure only the runs already finished")
    a = p.parse_args()
    fashion = ['--data-dir', a.fashion_dir] if Path(a.fashion_dir).is_dir() else ['--dataset', 'fashion-mnist']
    results = {'MNIST sample': measure('sample', ['--dataset', 'sample'], a.runs, not a.no_train),
               'Fashion-MNIST': measure('fashion', fashion, a.runs, not a.no_train)}
    a.out.write_text(json.dumps(results, indent=1))
    print(results_table(results))
