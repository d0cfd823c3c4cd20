"""Is the Python API as fast as the command line? Both measured side by side, in alternation, in fresh processes.

    python tools/api_vs_cli.py [--presets tutorial pooled] [--rounds 3] [--steps 6] [--warmup 2] [--out FILE]

For each preset (the tutorial's recipe and the default, `pooled`), each round runs, one after the other in new
processes:
- the CLI: `spiking-sae bench --preset P --no-epoch`, which times the reference and the fast engine in alternation;
- the API as a user writes it: `SAE(**cfg.model_kwargs())` and `FastSAE(...)` with the same weights,
  `make_optimizer` and `train_step` with the recipe's loss on the first `batch_size` sample digits, in alternation,
  nothing set up by hand (no allocator setting, no thread setting).
It prints each process's median seconds per step of both engines, their ratio, and per preset the median over
rounds of API fast step / CLI fast step (1.00: as fast). `--out` writes it all as JSON, with the CPU."""

import argparse, json, statistics, subprocess, sys
import torch
from spiking_sae.precision import cpu_features, device_name

API = r'''
import json, statistics, sys, time
from spiking_sae.model import SAE
from spiking_sae.fast import FastSAE
from spiking_sae.datasets import get_data
from spiking_sae.train import LOSSES, make_optimizer, train_step
from spiking_sae.recipes import PRESETS
steps, warmup, cfg = int(sys.argv[1]), int(sys.argv[2]), PRESETS[sys.argv[3]]
x = get_data('sample')[0].x[:cfg.batch_size]
ref = SAE(**cfg.model_kwargs()); fast = FastSAE(**ref.config); fast.load_state_dict(ref.state_dict())
fns = {m: (lambda m=m, o=make_optimizer(m, cfg): train_step(m, o, x, LOSSES[cfg.loss])) for m in (ref, fast)}
times = {m: [] for m in fns}
for i in range(warmup + steps):
    for m, f in fns.items():
        t = time.perf_counter(); f(); dt = time.perf_counter() - t
        if i >= warmup: times[m].append(dt)
print(json.dumps({'reference': statistics.median(times[ref]), 'fast': statistics.median(times[fast])}))
'''


def cli(steps, warmup, preset) -> dict:
    out = subprocess.run(
        ['spiking-sae', 'bench', '--device', 'cpu', '--preset', preset, '--no-epoch', '--steps', str(steps),
         '--warmup', str(warmup)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)['step_s']


def api(steps, warmup, preset) -> dict:
    out = subprocess.run(
        [sys.executable, '-c', API, str(steps), str(warmup), preset], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--presets', nargs='+', default=['tutorial', 'pooled'])
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--steps', type=int, default=6)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--out')
    a = p.parse_args(argv)
    res = dict(device_name=device_name(torch.device('cpu')), cpu_features=cpu_features(torch.device('cpu')),
               torch=torch.__version__, threads=torch.get_num_threads(), steps=a.steps, warmup=a.warmup, presets={})
    for preset in a.presets:
        rows = []
        for r in range(a.rounds):
            for name, fn in (('cli', cli), ('api', api)):
                s = fn(a.steps, a.warmup, preset)
                rows.append(dict(round=r, way=name, **s, speedup=s['reference'] / s['fast']))
                print(
                    f"{preset} round {r} {name}: reference {s['reference']:.3f} s, fast {s['fast']:.3f} s per step: "
                    f"{s['reference'] / s['fast']:.2f}x",
                    flush=True,
                )

        def by(w, k):
            return [x[k] for x in rows if x['way'] == w]

        ratio = statistics.median(a_ / c_ for a_, c_ in zip(by('api', 'fast'), by('cli', 'fast')))
        speedup = dict(cli=statistics.median(by('cli', 'speedup')), api=statistics.median(by('api', 'speedup')))
        res['presets'][preset] = dict(rows=rows, api_over_cli_fast_step=ratio, speedup=speedup)
        print(
            f"{preset}: API fast step / CLI fast step: {ratio:.3f} (median of {a.rounds} rounds); speedup over the "
            f"reference: CLI {speedup['cli']:.2f}x, API {speedup['api']:.2f}x"
        )
    if a.out:
        open(a.out, 'w').write(json.dumps(res, indent=2) + '\n')
    return res


if __name__ == '__main__':
    main()
