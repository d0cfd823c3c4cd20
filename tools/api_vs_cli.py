"""Is the Python API as fast as the command line? Both measured side by side, in alternation, in fresh processes.

    python tools/api_vs_cli.py [--rounds 3] [--steps 6] [--warmup 2] [--out api_vs_cli.json]

Each round runs, one after the other in new processes:
- the CLI: `spiking-sae bench --no-epoch`, which times the reference and the fast engine in alternation;
- the API as a user writes it: `SAE()` and `FastSAE()` with the same weights, `make_optimizer` and
  `train_step` on the first 250 sample digits, in alternation, nothing set up by hand (no allocator
  setting, no thread setting).
It prints each process's median seconds per step of both engines, their ratio, and the median over rounds
of API fast step / CLI fast step (1.00: as fast)."""

import argparse, json, statistics, subprocess, sys

API = r'''
import json, statistics, sys, time
from spiking_sae.model import SAE
from spiking_sae.fast import FastSAE
from spiking_sae.datasets import get_data
from spiking_sae.train import make_optimizer, train_step
from spiking_sae.bench import TUTORIAL
steps, warmup = int(sys.argv[1]), int(sys.argv[2])
x = get_data('sample')[0].x[:250]
ref = SAE(); fast = FastSAE(**ref.config); fast.load_state_dict(ref.state_dict())
fns = {m: (lambda m=m, o=make_optimizer(m, TUTORIAL): train_step(m, o, x)) for m in (ref, fast)}
times = {m: [] for m in fns}
for i in range(warmup + steps):
    for m, f in fns.items():
        t = time.perf_counter(); f(); dt = time.perf_counter() - t
        if i >= warmup: times[m].append(dt)
print(json.dumps({'reference': statistics.median(times[ref]), 'fast': statistics.median(times[fast])}))
'''


def cli(steps, warmup) -> dict:
    out = subprocess.run(
        ['spiking-sae', 'bench', '--no-epoch', '--steps', str(steps), '--warmup', str(warmup)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)['step_s']


def api(steps, warmup) -> dict:
    out = subprocess.run(
        [sys.executable, '-c', API, str(steps), str(warmup)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--steps', type=int, default=6)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--out')
    a = p.parse_args(argv)
    rows = []
    for r in range(a.rounds):
        for name, fn in (('cli', cli), ('api', api)):
            s = fn(a.steps, a.warmup)
            rows.append(dict(round=r, way=name, **s, speedup=s['reference'] / s['fast']))
            print(
                f"round {r} {name}: reference {s['reference']:.3f} s, fast {s['fast']:.3f} s per step: "
                f"{s['reference'] / s['fast']:.2f}x",
                flush=True,
            )
    def by(w, k):
        return [x[k] for x in rows if x['way'] == w]
    ratio = statistics.median(a_ / c_ for a_, c_ in zip(by('api', 'fast'), by('cli', 'fast')))
    res = dict(
        rows=rows,
        api_over_cli_fast_step=ratio,
        speedup=dict(cli=statistics.median(by('cli', 'speedup')), api=statistics.median(by('api', 'speedup'))),
    )
    print(
        f"API fast step / CLI fast step: {ratio:.3f} (median of {a.rounds} rounds); speedup over the reference: "
        f"CLI {res['speedup']['cli']:.2f}x, API {res['speedup']['api']:.2f}x"
    )
    if a.out:
        open(a.out, 'w').write(json.dumps(res, indent=2) + '\n')
    return res


if __name__ == '__main__':
    main()
