"""Where one training step of each engine spends its time: convolutions, BatchNorm, everything else.

    python tools/profile_step.py [--preset tutorial] [--batch-size B] [--num-steps T] [--threads 2] [--warmup 2]
                                 [--steps 3] [--precision fp32] [--out spiking_sae/results/profile.json]

`--preset` picks the recipe whose model, optimiser, loss and batch are profiled (default: the tutorial's; `pooled`
is the package's default), its batch size and time steps unless `--batch-size` / `--num-steps` say otherwise; the
models start as a run of the recipe does (seeded, `init_output`).

With --precision bf16 each step runs under autocast (`precision.precision_step`, as `--precision bf16` trains),
and the default --out is spiking_sae/results/profile_bf16.json.

Run it on an idle machine: other processes on the same cores stretch every operator unevenly, and the
shares come out wrong. It builds a reference `SAE` and a `FastSAE` with the same weights, as the
benchmark does (`keep_big_blocks`, the tutorial's AdamW, `train_step` with the final-step loss, B
training digits of the MNIST sample), runs `--warmup` untimed steps of each, then profiles `--steps`
steps of each with `torch.profiler` on `--threads` threads and averages them. An operator counts as a
convolution (forward or backward, transposed included) or as BatchNorm when it, or an operator or
autograd node it runs inside, is named so; everything else — LIF neurons, linear layers, the loss,
AdamW, copies, Python between operators — is the rest of the step. Seconds per category per engine, and the
operators with the most self time, go
to spiking_sae/results/profile.json, which `10_fast` renders; the profiler adds some overhead to every operator, so the
totals run a little above the benchmark's step times (`spiking-sae bench > spiking_sae/results/bench.json`)."""

import argparse, json, platform, re
from dataclasses import replace
from pathlib import Path
import torch
from torch.profiler import ProfilerActivity, profile, record_function
from spiking_sae.recipes import PRESETS
from spiking_sae.precision import cpu_features
from spiking_sae.datasets import get_data
from spiking_sae.fast import FastSAE
from spiking_sae.engines import tune_cpu_allocator
from spiking_sae.model import SAE
from spiking_sae.train import LOSSES, init_output, make_optimizer, train_step
from spiking_sae.precision import precision_step

OUT = Path(__file__).resolve().parent.parent / 'spiking_sae' / 'results' / 'profile.json'
CATEGORIES = {'convolutions': re.compile(r'conv(?!ert)', re.I), 'batchnorm': re.compile(r'batch_?norm', re.I)}
ROOT = 'train_step'  # the record_function label around each profiled step


def category(ev) -> str:
    "The category of a profiler event: the first pattern that it or one of its callers matches, else 'other'"
    names = []
    while ev is not None:
        names.append(ev.name)
        ev = ev.cpu_parent
    return next((c for c, pat in CATEGORIES.items() if any(pat.search(n) for n in names)), 'other')


def split_step(prof, steps: int) -> dict:
    "Seconds per step by category, from the self times of every event inside the `ROOT` labels, averaged"
    secs, total = dict.fromkeys([*CATEGORIES, 'other'], 0.0), 0.0
    for ev in prof.events():
        if ev.name == ROOT:
            total += ev.cpu_time_total / 1e6
        elif ev.cpu_parent is not None:
            secs[category(ev)] += ev.self_cpu_time_total / 1e6
    secs['other'] = total - secs['convolutions'] - secs['batchnorm']  # Python between ops is 'other' too
    return {**{k: v / steps for k, v in secs.items()}, 'total': total / steps}


def profile_engine(step, warmup: int, steps: int) -> dict:
    "Warm `step` up, then profile `steps` calls of it, each under the `ROOT` label"
    for _ in range(warmup):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            with record_function(ROOT):
                step()
    return {**split_step(prof, steps), 'top': top_ops(prof, steps)}


def top_ops(prof, steps: int, n: int = 12) -> list:
    "The `n` operators with the most self time per step: name, seconds per step, calls per step"
    avgs = sorted((a for a in prof.key_averages() if a.key != ROOT), key=lambda a: -a.self_cpu_time_total)[:n]
    return [dict(op=a.key, s=a.self_cpu_time_total / 1e6 / steps, calls=a.count // steps) for a in avgs]


def cpu_name() -> str:
    "The CPU model, as /proc/cpuinfo names it"
    try:
        return next(line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name'))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--preset', default='tutorial', choices=list(PRESETS))
    for o, d in (('--batch-size', None), ('--num-steps', None), ('--threads', 2), ('--warmup', 2), ('--steps', 3)):
        p.add_argument(o, type=int, default=d)
    p.add_argument('--precision', default='fp32', choices=('fp32', 'bf16'))
    p.add_argument('--out', type=Path)
    a = p.parse_args(argv)
    out = a.out or (OUT if a.precision == 'fp32' else OUT.with_name(f'profile_{a.precision}.json'))
    torch.set_num_threads(a.threads)
    tuned = tune_cpu_allocator()  # what FastSAE does itself; done first so the reference gets it too
    cfg = PRESETS[a.preset]
    cfg = replace(cfg, batch_size=a.batch_size or cfg.batch_size, num_steps=a.num_steps or cfg.num_steps)
    x = get_data('sample')[0].x[: cfg.batch_size]
    torch.manual_seed(cfg.seed)
    ref = init_output(SAE(**cfg.model_kwargs()), cfg)
    fast = FastSAE(**ref.config)
    fast.load_state_dict(ref.state_dict())
    secs = {}
    for name, m in (('reference', ref), ('fast', fast)):
        opt = make_optimizer(m, cfg)
        if a.precision == 'fp32':
            step = lambda m=m, opt=opt: train_step(m, opt, x, LOSSES[cfg.loss])  # noqa: E731
        else:
            step = lambda m=m, opt=opt: precision_step(m, opt, x, LOSSES[cfg.loss], a.precision)  # noqa: E731
        secs[name] = profile_engine(step, a.warmup, a.steps)
    res = dict(
        device_name=cpu_name(),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        malloc_tuned=tuned,
        preset=a.preset,
        precision=a.precision,
        cpu_flags=cpu_features('cpu'),
        batch_size=len(x),
        num_steps=cfg.num_steps,
        warmup=a.warmup,
        steps=a.steps,
        seconds=secs,
    )
    out.write_text(json.dumps(res, indent=2) + '\n')
    for name, r in secs.items():
        print(f"{name}: {r['total']:.3f} s/step; " + ', '.join(f"{k} {r[k]:.3f}" for k in (*CATEGORIES, 'other')))
        for t in r['top']:
            print(f"  {t['s']:.4f} s  {t['s'] / r['total']:5.1%}  x{t['calls']:<4} {t['op']}")


if __name__ == '__main__':
    main()
