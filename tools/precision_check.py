"""Train the same recipe in fp32 and in bf16 (and fp16 on CUDA), from the same seed on the same data, and
measure each on the whole test set in fp32: does mixed precision cost accuracy? Writes
spiking_sae/results/precision.json, which the benchmark notebook shows.

    python tools/precision_check.py [--epochs 3] [--device cpu] [--preset best] [--out FILE]"""

import argparse, json, time, warnings
from dataclasses import replace
from pathlib import Path
import torch
from spiking_sae.datasets import get_data
from spiking_sae.fast import FastSAE
from spiking_sae.recipes import PRESETS
from spiking_sae.trainer import Trainer
from spiking_sae.precision import get_device, cpu_has_bf16

OUT = Path(__file__).resolve().parent.parent / 'spiking_sae' / 'results' / 'precision.json'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--preset', default='best', choices=list(PRESETS))
    p.add_argument('--device')
    p.add_argument('--out', type=Path, default=OUT)
    a = p.parse_args(argv)
    device = get_device(a.device)
    trn, tst = get_data('sample')
    res = dict(
        device=str(device),
        torch=torch.__version__,
        preset=a.preset,
        epochs=a.epochs,
        data=tst.source,
        cpu_bf16=cpu_has_bf16() if device.type == 'cpu' else None,
        runs={},
    )
    for prec in ['fp32', 'bf16'] + (['fp16'] if device.type == 'cuda' else []):
        cfg = replace(PRESETS[a.preset], epochs=a.epochs, precision=prec)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            run = Trainer.start(cfg, device, FastSAE).fit(trn, tst, progress=False)
        res['runs'][prec] = dict(seconds=time.perf_counter() - t, history=run.history)
        print(prec, f"{res['runs'][prec]['seconds']:.0f} s, test MSE {run.history[-1]['test_mse']:.5f}", flush=True)
    a.out.write_text(json.dumps(res, indent=1) + '\n')
    print(f"wrote {a.out}")


if __name__ == '__main__':
    main()
