"""Quality against operations: the default recipe trained with a penalty on spikes of several weights, and the
non-spiking twin, on the same data and budget; every model counted by `spiking_sae.ops.count_ops`.

    python tools/frontier.py [--out spiking_sae/results/frontier.json] [--fashion-dir DIR] [--images N] \
[--epochs N] [--seeds N ...] [--weights W ...]

Each run is one JSON record in --out, keyed by its weight (or 'twin') and seed; a record already there is not
run again, so an interrupted sweep carries on where it stopped. The spiking runs train the default preset
(`pooled`) with `TrainConfig(spike_penalty=W)` through the library's trainer, with the fast engine; the twin
trains the `best` preset (`pooled` pools BatchNorm over time steps and learns β and θ, which a network without
steps or spiking neurons does not have: as tools/results.py does) with `fit(..., cls=TwinAE)`. Everything is
measured on the whole test set. Spiking Sae's chapter "Spikes that count" draws the frontier from this file."""

import argparse, json, time
from dataclasses import asdict, replace
from pathlib import Path
import torch
from spiking_sae.analysis import TwinAE
from spiking_sae.datasets import get_data
from spiking_sae.engines import keep_big_blocks
from spiking_sae.evaluation import quality
from spiking_sae.fast import FastSAE
from spiking_sae.io import atomic_write
from spiking_sae.ops import count_ops, energy
from spiking_sae.recipes import DEFAULT_PRESET, PRESETS
from spiking_sae.train import fit
from spiking_sae.trainer import Trainer

FASHION = '/usr/share/datasets/fashion-mnist'


def spiking(cfg, trn, tst) -> dict:
    "Train the default recipe with its penalty; quality, operations and energy on all of `tst`"
    t0 = time.perf_counter()
    run = Trainer.start(cfg, 'cpu', FastSAE).fit(trn, tst, progress=False)
    ops = count_ops(run.model, tst)
    return dict(test_mse=[h['test_mse'] for h in run.history], quality=quality(run.model, tst),
                ops={k: v for k, v in ops.items() if k != 'layers'}, layers=ops['layers'], energy=energy(ops),
                latent_rate=next(lay['rate'] for lay in ops['layers'] if lay['layer'] == 'linearNet.0'),
                wall_seconds=time.perf_counter() - t0)


def twin(cfg, trn, tst, ops_of_spiking: dict) -> dict:
    "Train the twin; its quality, and its multiply-adds (those of the same layers, all dense, once)"
    t0 = time.perf_counter()
    made = fit(cfg, trn, tst, device='cpu', cls=TwinAE)
    return dict(test_mse=[h['test_mse'] for h in made.history], quality=quality(made.model, tst),
                macs=ops_of_spiking['twin_macs'], energy_nj=energy(ops_of_spiking)['twin_nj'],
                wall_seconds=time.perf_counter() - t0)


def save(db: dict, out: Path):
    "Write the results file whole or not at all, so that an interrupted run resumes from it"
    atomic_write(out, lambda tmp: Path(tmp).write_text(json.dumps(db, indent=1)))


def main(a):
    db = json.loads(a.out.read_text()) if a.out.exists() else {}
    budget = dict(data=f"first {a.images:,} Fashion-MNIST training images; all 10,000 test images", epochs=a.epochs,
                  preset=DEFAULT_PRESET, twin_preset='best')
    if db.get('records') and {k: db.get(k) for k in budget} != budget:
        raise SystemExit(f"{a.out} holds runs of another budget ({ {k: db.get(k) for k in budget} }): "
                         "name another --out, or ask for the same --images and --epochs")
    db.update(budget)
    recs = db.setdefault('records', [])
    trn, tst = get_data('auto', a.fashion_dir) if Path(a.fashion_dir).is_dir() else get_data('fashion-mnist')
    trn = trn.subset(a.images)
    for w in a.weights:
        for seed in a.seeds:
            if any(r['weight'] == w and r['seed'] == seed for r in recs):
                continue
            cfg = replace(PRESETS[DEFAULT_PRESET], epochs=a.epochs, seed=seed, spike_penalty=w)
            recs.append(dict(weight=w, seed=seed, config=asdict(cfg), **spiking(cfg, trn, tst)))
            save(db, a.out)
            r = recs[-1]
            print(f"penalty {w}: seed {seed} test MSE {r['quality']['mse']:.5f}, {r['ops']['sops']:,.0f} accumulates, "
                  f"{r['wall_seconds']:.0f} s", flush=True)
    counted = next((r['ops'] for r in recs if 'ops' in r), None)  # the twin has the layers of the spiking runs
    if counted is None:
        raise SystemExit("the twin's multiply-adds are counted from a spiking run's layers: ask for one --weights")
    for seed in a.seeds:
        if any(r['weight'] == 'twin' and r['seed'] == seed for r in recs):
            continue
        cfg = replace(PRESETS['best'], epochs=a.epochs, seed=seed)
        recs.append(dict(weight='twin', seed=seed, config=asdict(cfg), **twin(cfg, trn, tst, counted)))
        save(db, a.out)
        print(f"twin: seed {seed} test MSE {recs[-1]['quality']['mse']:.5f}", flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=Path('spiking_sae/results/frontier.json'))
    p.add_argument('--fashion-dir', default=FASHION, help="Fashion-MNIST IDX files; missing: torchvision download")
    p.add_argument('--images', type=int, default=10_000, help="training images (default: 10,000)")
    p.add_argument('--epochs', type=int, default=3, help="epochs (default: 3)")
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--weights', type=float, nargs='+', default=[0.0, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
                   help="penalty weights λ (default: 0 0.003 0.01 0.03 0.1 0.3 1)")
    a = p.parse_args()
    torch.manual_seed(0)
    keep_big_blocks()
    main(a)
