"""Ablation of the better preset on the embedded MNIST sample: each change undone in turn, same seed, same data.

    python tools/ablation.py [--epochs 20] [--threads N]

Prints one JSON line per run and then a markdown table (the one in nbs/04_train.ipynb)."""
import argparse, json, time
from dataclasses import replace, asdict
import torch
from spiking_sae.data import get_data
from spiking_sae.fast import FastSAE, keep_big_blocks
from spiking_sae.train import PRESETS, fit

VARIANTS = { # name -> changes to the better preset
    'better preset': {},
    'readout leaky (β = 0.5, the tutorial)': dict(readout='leaky'),
    'out_init 1 (PyTorch default)': dict(out_init=1.0),
    'constant learning rate': dict(schedule='constant'),
    'learning rate 1e-4 (the tutorial)': dict(lr=1e-4),
    'batches of 50, not 250 (5× the updates)': dict(batch_size=50),
    'tutorial preset, same epochs': {k: v for k, v in asdict(PRESETS['tutorial']).items() if k != 'epochs'},
}

def run(name, changes, epochs, train, test):
    "Train one variant with the fast engine; its test MSE after every epoch"
    cfg = replace(PRESETS['better'], **changes, epochs=epochs)
    t0 = time.perf_counter()
    _, hist = fit(cfg, train, test, progress=False, cls=FastSAE)
    return dict(name=name, changes={k: v for k, v in changes.items() if asdict(PRESETS['better'])[k] != v},
                test_mse=[round(h['test_mse'], 5) for h in hist], seconds=round(time.perf_counter() - t0))

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--epochs', type=int, default=PRESETS['better'].epochs)
    p.add_argument('--threads', type=int, help="torch CPU threads (default: torch's)")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    keep_big_blocks()
    train, test = get_data('sample')
    rows = []
    for name, changes in VARIANTS.items():
        rows.append(run(name, changes, a.epochs, train, test)); print(json.dumps(rows[-1]), flush=True)
    mid = a.epochs // 2
    print(f"\n| variant | test MSE, epoch {mid} | test MSE, epoch {a.epochs} |\n|---|---|---|")
    for r in rows: print(f"| {r['name']} | {r['test_mse'][mid-1]:.4f} | {r['test_mse'][-1]:.4f} |")
