"""The recipe sweep: variants of a base recipe trained with `fit` on the same data, each measured on the whole test set.

    python tools/sweep.py STAGE [STAGE ...] [--out spiking_sae/results/sweep.json] [--only VARIANT ...] \
[--seeds N ...] [--fashion-dir DIR] [--threads N] [--list]

A stage (see STAGES) names its data (the embedded MNIST sample, or the first N Fashion-MNIST training
images; always the whole test set), a number of epochs, a base recipe (a preset plus changes), seeds,
and variants: each a set of changes to the base. Every run is one JSON record in --out, keyed by
stage, variant and seed; a record already there is not run again, so an interrupted sweep carries
on where it stopped and a finished one re-prints its table without training. The notebooks render
their tables and figures from that file (spiking_sae/results/sweep.json); nothing is pasted.

Each record holds the changes, the data, the test MSE after every epoch, the final `quality`
(MSE, PSNR, SSIM), the test MSE of every step's membrane (stages 5 and later), the latent's mean
firing rate and dead fraction, its rate at every step and the membrane at every step of the first
four test images (`per_step_rate`, `shown_steps`: records made from 2026-12-05 on), and the seconds
per epoch (wall time on the machine that ran it; runs of one stage are not timed against each other;
stages 1-4 counted the end-of-epoch evaluation too, stages 5 and later count training only)."""

import argparse, base64, json, statistics, time
from dataclasses import replace, asdict
from pathlib import Path
import torch
from spiking_sae.datasets import get_data
from spiking_sae.evaluation import eval_mode, quality
from spiking_sae.analysis import latent_spikes, latent_stats
from spiking_sae.fast import FastSAE
from spiking_sae.engines import keep_big_blocks
from spiking_sae.recipes import PRESETS, sweep_table
from spiking_sae.time_loss import per_step_mse
from spiking_sae.config import TrainConfig
from spiking_sae.train import fit
from spiking_sae.io import from_pretrained, load_checkpoint

FASHION = '/usr/share/datasets/fashion-mnist'
B50 = dict(batch_size=50)  # shorthand for the small-batch variants

POOLED_LEVERS = {  # stages fashion-full and sample-bn-time: per-step statistics, pooled, and pooled with learnt neurons
    'best preset (statistics per step)': {},
    'statistics over time': dict(bn_stats='over_time'),
    'statistics over time, β, θ learnt': dict(bn_stats='over_time', learn_beta=True, learn_threshold=True),
}


def _cumulative(*steps):
    "Variants that each add one change to the one before: {name: all changes so far}"
    out, so_far = {}, {}
    for name, change in steps:
        so_far = {**so_far, **change}
        out[name] = dict(so_far)
    return out


ABLATION = _cumulative(  # stage sample-ablation: the original recipe, then one change at a time to best and pooled
    ('the original recipe (lr 1e-4, batch 250)', {}),
    ('+ learning rate 1e-3', dict(lr=1e-3)),
    ('+ cosine decay', dict(schedule='cosine')),
    ('+ quiet output (out_init 0.1)', dict(out_init=0.1)),
    ("+ summing readout (better's settings)", dict(readout='sum')),
    ('+ batch 50', dict(batch_size=50)),
    ('+ learning rate 3e-3', dict(lr=3e-3)),
    ('+ output bias 0', dict(out_bias='zero')),
    ("+ one LIF layer after the latent (best's settings)", dict(double_lif=False)),
    ('+ BatchNorm statistics over time', dict(bn_stats='over_time')),
    ("+ β, θ learnt (pooled's settings)", dict(learn_beta=True, learn_threshold=True)),
)

STAGES = {
    # 1. Batch size and learning rate on the README's budget: 3 epochs of the 4,000-digit sample.
    'sample-lr': dict(
        data='sample',
        epochs=3,
        base=dict(preset='better'),
        seeds=(0, 1),
        variants={
            'better preset (batch 250, lr 1e-3, cosine)': {},
            'batch 50, lr 1e-3, constant': dict(**B50, schedule='constant'),
            'batch 50, lr 1e-3, cosine': dict(**B50),
            'batch 50, lr 2e-3, cosine': dict(**B50, lr=2e-3),
            'batch 50, lr 3e-3, cosine': dict(**B50, lr=3e-3),
            'batch 25, lr 1e-3, cosine': dict(batch_size=25),
            'batch 100, lr 2e-3, cosine': dict(batch_size=100, lr=2e-3),
        },
    ),
    # 2. Each other lever, one at a time, on the same budget, from the best of stage 1.
    'sample-levers': dict(
        data='sample',
        epochs=3,
        base=dict(preset='better', **B50, lr=2e-3),
        seeds=(0, 1),
        variants={
            'base (batch 50, lr 2e-3, cosine)': {},
            'one LIF layer after the latent (double_lif off)': dict(double_lif=False),
            'surrogate slope 1': dict(slope=1.0),
            'surrogate slope 5': dict(slope=5.0),
            'time-averaged loss': dict(loss='time_avg'),
            'readout leaky (the tutorial)': dict(readout='leaky'),
            'out_init 0.03': dict(out_init=0.03),
            'out_init 0.3': dict(out_init=0.3),
            "out_init 1.0 (PyTorch's default scale)": dict(out_init=1.0),
            'beta 0.25': dict(beta=0.25),
            'beta 0.75': dict(beta=0.75),
            'threshold 0.5': dict(threshold=0.5),
            'no weight decay': dict(weight_decay=0.0),
        },
    ),
    # 3. What wins on the sample need not carry over: the contenders on 10,000 Fashion-MNIST images.
    'fashion-10k': dict(
        data='fashion:10000',
        epochs=3,
        base=dict(preset='better', **B50, lr=2e-3),
        seeds=(0,),
        variants={
            'base (batch 50, lr 2e-3, cosine)': {},
            'lr 1e-3': dict(lr=1e-3),
            'lr 4e-3': dict(lr=4e-3),
            'one LIF layer after the latent (double_lif off)': dict(double_lif=False),
            'double_lif off, output bias zero': dict(double_lif=False, out_bias='zero'),
            'double_lif off, output bias zero, lr 4e-3': dict(double_lif=False, out_bias='zero', lr=4e-3),
        },
    ),
    # 4. The chosen recipe at T = 1, 2, 5, 8 and 16 time steps, on stage 3's budget (far short of the preset's
    # 20 epochs).
    'fashion-steps': dict(
        data='fashion:10000',
        epochs=3,
        base=dict(preset='best'),
        seeds=(0,),
        variants={f'T = {t}': dict(num_steps=t) for t in (5, 1, 2, 8, 16)},
    ),
    # 5. The two losses of `time_loss`, everything else equal: under the recipe that learns, on the shipped budget ...
    'sample-losses': dict(
        data='sample',
        epochs=20,
        base=dict(preset='best'),
        seeds=(0, 1),
        variants={'final-step loss (the tutorial)': {}, 'time-averaged loss': dict(loss='time_avg')},
    ),
    # ... and under the tutorial's recipe, which does not learn (a second row, for the record).
    'sample-losses-tutorial': dict(
        data='sample',
        epochs=10,
        base=dict(preset='tutorial'),
        seeds=(0,),
        variants={'final-step loss (the tutorial)': {}, 'time-averaged loss': dict(loss='time_avg')},
    ),
    # ... and under the recipe that learns with the tutorial's leaky readout instead of the summing one.
    'sample-losses-leaky': dict(
        data='sample',
        epochs=20,
        base=dict(preset='best', readout='leaky'),
        seeds=(0, 1),
        variants={'final-step loss (the tutorial)': {}, 'time-averaged loss': dict(loss='time_avg')},
    ),
    # 6. Learnable neurons (21_neurons): each hidden layer's β and/or θ learnt, on stage 3's budget, two seeds.
    'fashion-neurons': dict(
        data='fashion:10000',
        epochs=3,
        base=dict(preset='best'),
        seeds=(0, 1),
        variants={
            'best preset (β, θ fixed)': {},
            'β learnt': dict(learn_beta=True),
            'θ learnt': dict(learn_threshold=True),
            'β and θ learnt': dict(learn_beta=True, learn_threshold=True),
        },
    ),
    # 7. BatchNorm over time (22_bn_time): statistics pooled over the batch and every step, on stage 3's budget.
    'fashion-bn-time': dict(
        data='fashion:10000',
        epochs=3,
        base=dict(preset='best'),
        seeds=(0, 1),
        variants={
            'best preset (statistics per step)': {},
            'statistics over time': dict(bn_stats='over_time'),
        },
    ),
    # 8. The full budget (20 epochs on all of Fashion-MNIST, two seeds): the preset, and levers that won on stage 3's.
    # Each run takes 30-60 min on 2 cores; made with `spiking-sae train` (resumable) and recorded with --from-run:
    #   spiking-sae train --preset best [--seed 1] [--bn-stats over_time [--learn-beta --learn-threshold]] \
    #                     --data-dir DIR --out runs/...
    #   python tools/sweep.py fashion-full --only VARIANT --seeds 0 --from-run runs/...  (or without --from-run: trains)
    # The per-step row's seed 0 was the shipped Fashion-MNIST model until `pooled` became the default; the last row's
    # seed 0 is the shipped one now (--from-run fashion-mnist records it).
    'fashion-full': dict(
        data='fashion',
        epochs=20,
        base=dict(preset='best'),
        seeds=(0, 1),
        variants=POOLED_LEVERS,
    ),
    # 9. With statistics over time as the base: the levers that might add to it, on stage 3's budget, two seeds.
    'fashion-bn-time-plus': dict(
        data='fashion:10000',
        epochs=3,
        base=dict(preset='best', bn_stats='over_time'),
        seeds=(0, 1),
        variants={
            'statistics over time': {},
            'and β, θ learnt': dict(learn_beta=True, learn_threshold=True),
            'and T = 8': dict(num_steps=8),
            'and lr 4e-3': dict(lr=4e-3),
            'and β, θ learnt, T = 8': dict(learn_beta=True, learn_threshold=True, num_steps=8),
        },
    ),
    # 10. The MNIST sample at the preset's budget (20 epochs of 4,000 digits): the levers that won on Fashion-MNIST.
    'sample-bn-time': dict(
        data='sample',
        epochs=20,
        base=dict(preset='best'),
        seeds=(0, 1),
        variants=POOLED_LEVERS,
    ),
    # 11. The failure story, measured: from the original recipe to `best` and then `pooled`, one change at a time
    # (each variant keeps the changes above it), on the same data and budget: 10 epochs of the sample, two seeds.
    'sample-ablation': dict(
        data='sample',
        epochs=10,
        base=dict(preset='tutorial'),
        seeds=(0, 1),
        variants=ABLATION,
    ),
    # 12. The same budget, each of the first changes alone on the original recipe: which one does most by itself.
    'sample-ablation-alone': dict(
        data='sample',
        epochs=10,
        base=dict(preset='tutorial'),
        seeds=(0, 1),
        variants={
            'quiet output alone (out_init 0.1)': dict(out_init=0.1),
            'summing readout alone': dict(readout='sum'),
            'batch 50 alone': dict(batch_size=50),
        },
    ),
}
SHOWN = 4  # test images whose membrane at every step a record keeps (stages 5 and later)


def base_config(stage: dict) -> TrainConfig:
    "The stage's base recipe: its preset with its changes"
    b = dict(stage['base'])
    return replace(PRESETS[b.pop('preset')], **b, epochs=stage['epochs'])


_DATA = {}


def load(stage: dict, fashion_dir: str):
    "Train and test sets of a stage (loaded once per process)"
    key = stage['data'].split(':')[0]
    if key not in _DATA:
        _DATA[key] = (
            get_data('sample')
            if key == 'sample'
            else get_data('auto', fashion_dir)
            if Path(fashion_dir).is_dir()
            else get_data('fashion-mnist')
        )  # no Debian package: torchvision downloads it
    trn, tst = _DATA[key]
    n = int(stage['data'].split(':')[1]) if ':' in stage['data'] else None
    return (trn.subset(n) if n else trn), tst


@torch.no_grad()
def shown_steps(model, tst) -> str:
    "The output membrane at every step for the first SHOWN test images, `(T, SHOWN, H, W)` bytes (0-255) in base64"
    with eval_mode(model):
        mems = model(tst.x[:SHOWN], record=True).mems.clamp(0, 1)[:, :, 0]
    return base64.b64encode((mems * 255).round().byte().cpu().numpy().tobytes()).decode()


def variant_config(stage: dict, changes: dict, seed: int) -> TrainConfig:
    "The recipe of one variant and seed"
    return replace(base_config(stage), **changes, seed=seed)


def run(stage: dict, name: str, changes: dict, seed: int, trn, tst) -> dict:
    "Train one variant with one seed; its record"
    cfg = variant_config(stage, changes, seed)
    t0 = time.perf_counter()
    run_ = fit(cfg, trn, tst, cls=FastSAE)
    device = next(run_.model.parameters()).device
    return record(name, changes, seed, cfg, run_.model, run_.history, trn, tst.to(device), time.perf_counter() - t0)


def recorded(stage: dict, name: str, changes: dict, seed: int, source, trn, tst) -> dict:
    "The record of a finished run made elsewhere with this variant's recipe: a run directory or a shipped model"
    model = from_pretrained(FastSAE, source)
    if 'train_config' in getattr(model, 'meta', {}):  # a save_pretrained folder or a shipped name
        got, made = model.meta['train_config'], model.meta
    else:  # a run directory of `spiking-sae train`
        got = load_checkpoint(Path(source) / 'checkpoint.pt')['train_config']
        made = json.loads((Path(source) / 'metrics.json').read_text())
    hist = made['history']
    cfg = variant_config(stage, changes, seed)
    its = asdict(TrainConfig(**{**got, 'channels': tuple(got['channels'])}))  # fields it lacks: their defaults
    if differ := {k: (its[k], v) for k, v in asdict(cfg).items() if its[k] != v and k != 'precision'}:
        raise SystemExit(f"{source} was not trained with variant {name!r} of this stage: (its, the variant's) {differ}")
    if made['train_images'] != len(trn):
        raise SystemExit(f"{source} trained on {made['train_images']} images, the stage on {len(trn)}: not its data")
    if len(hist) != cfg.epochs:
        raise SystemExit(f"{source} trained {len(hist)} of the stage's {cfg.epochs} epochs: finish it with --resume")
    secs = sum(h['train_seconds'] for h in hist)
    return {**record(name, changes, seed, cfg, model, hist, trn, tst, secs), 'source': str(source)}


def record(name, changes, seed, cfg, model, hist, trn, tst, wall) -> dict:
    "The JSON record of a trained model of one variant and seed"
    lat = latent_stats(model, tst)
    return dict(
        variant=name,
        changes=changes,
        seed=seed,
        config=asdict(cfg),
        data_source=tst.source,
        train_images=len(trn),
        test_images=len(tst),
        test_mse=[h['test_mse'] for h in hist],
        train_loss=[h['train_loss'] for h in hist],
        quality=quality(model, tst),
        per_step_mse=per_step_mse(model, tst),
        per_step_rate=latent_spikes(model, tst).float().mean((1, 2)).tolist(),
        shown_steps=shown_steps(model, tst),
        learnt={n: p.item() for n, p in model.named_parameters() if p.ndim == 0},  # learnable neurons' β and θ
        latent_rate=lat['mean_rate'],
        latent_never_fire=lat['never_fire'],
        seconds_per_epoch=statistics.mean(h['train_seconds'] for h in hist),
        wall_seconds=wall,
    )


def main(stages, out: Path, fashion_dir: str, only=None, seeds=None, from_run=None):
    db = json.loads(out.read_text()) if out.exists() else {}
    for s in stages:
        stage = STAGES[s]
        recs = db.setdefault(s, dict(data=stage['data'], epochs=stage['epochs'], base=stage['base'], records=[]))[
            'records'
        ]
        trn, tst = load(stage, fashion_dir)
        for name, changes in stage['variants'].items():
            if only and name not in only:
                continue
            for seed in seeds or stage['seeds']:
                if any(r['variant'] == name and r['seed'] == seed for r in recs):
                    continue
                recs.append(
                    recorded(stage, name, changes, seed, from_run, trn, tst)
                    if from_run
                    else run(stage, name, changes, seed, trn, tst)
                )
                out.write_text(json.dumps(db, indent=1))
                print(
                    s, name, seed, f"{recs[-1]['quality']['mse']:.5f}", f"{recs[-1]['wall_seconds']:.0f}s", flush=True
                )
        print(f'\n### {s}\n' + sweep_table(db[s]), flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('stages', nargs='*')
    p.add_argument('--out', type=Path, default=Path('spiking_sae/results/sweep.json'))
    p.add_argument('--fashion-dir', default=FASHION, help="Fashion-MNIST IDX files; missing: torchvision download")
    p.add_argument('--threads', type=int, help="torch CPU threads (default: torch's)")
    p.add_argument(
        '--only',
        nargs='+',
        metavar='VARIANT',
        help="run only these variants (names as in the table); with a new --out, this reruns one row from scratch",
    )
    p.add_argument('--seeds', nargs='+', type=int, help="run only these seeds (default: the stage's)")
    p.add_argument(
        '--from-run',
        metavar='SOURCE',
        help="record a finished run instead of training it: a run directory of `spiking-sae train` or a shipped "
        "model's name, trained with the recipe of the one variant and seed named by --only and --seeds",
    )
    p.add_argument('--list', action='store_true', help="list the stages")
    a = p.parse_args()
    if a.list or not a.stages:
        for k, s in STAGES.items():
            print(k, s['data'], s['epochs'], 'epochs', len(s['variants']), 'variants ×', len(s['seeds']), 'seeds')
    else:
        if unknown := [s for s in a.stages if s not in STAGES]:
            p.error(f"unknown stage(s) {unknown}: choose from {list(STAGES)}")
        if a.threads:
            torch.set_num_threads(a.threads)
        keep_big_blocks()
        if a.from_run and (len(a.stages) != 1 or len(a.only or []) != 1 or len(a.seeds or []) != 1):
            p.error("--from-run records one run: name one stage, one variant (--only) and one seed (--seeds)")
        main(a.stages, a.out, a.fashion_dir, a.only, a.seeds, a.from_run)
