"""The GPU check: what in this package needs a GPU, run in one go on one device, written to one JSON file.

    bash tools/gpu_check.sh [--device cuda|cpu] [--out gpu_check.json] [--fashion DIR]

(`gpu_check.sh` sets up the Python path on a bare GPU machine, then runs this.) In order:

1. the device, PyTorch and Triton, and whether the fused Triton LIF kernel proves equal to the plain scan
   there (`scan.triton_works`), with the warning it gives if not;
2. every notebook that has `#| cuda` cells, run as a test with those cells on (`--flags cuda`);
3. `spiking-sae bench`: the plain LIF scan; the default scan (Triton on a GPU) in every precision; compiled;
4. `spiking-sae train` for 3 epochs on Fashion-MNIST with the default recipe, timed.

On a GPU this takes a few minutes. `--device cpu` is the dry run: the same steps, sized down (small bench,
500 training images), with the `#| cuda` cells skipping themselves as they do on any machine without a GPU;
it shows that the script and its JSON work before a GPU's time is spent on them."""

import argparse, datetime, json, platform, subprocess, sys, tempfile, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FASHION = Path('/usr/share/datasets/fashion-mnist')


def sh(cmd: list, timeout: int) -> dict:
    "Run `cmd` in the repository; its status, seconds, and the tail of what it printed"
    t = time.time()
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(cmd=' '.join(cmd), rc=None, seconds=timeout, error=f"timed out after {timeout} s")
    return dict(
        cmd=' '.join(map(str, cmd)),
        rc=r.returncode,
        seconds=round(time.time() - t, 1),
        stdout=r.stdout,
        stderr_tail=r.stderr[-3000:],
    )


def cli(*args) -> list:
    return [sys.executable, '-c', 'import sys; from spiking_sae.cli import main; sys.exit(main())', *map(str, args)]


def json_out(r: dict):
    "The JSON a `spiking-sae` command printed, or None"
    try:
        return json.loads(r.get('stdout') or 'null')
    except json.JSONDecodeError:
        return None


def about(device: str) -> dict:
    import torch
    from spiking_sae.scan import triton_works

    dev = torch.device(device)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        works = triton_works(dev) if dev.type == 'cuda' else None
    try:
        import triton

        tv = triton.__version__
    except Exception as e:
        tv = f"not importable: {e}"
    cpu = next(
        (line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')),
        platform.machine(),
    )
    return dict(
        device=device,
        device_name=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else cpu,
        torch=torch.__version__,
        cuda=torch.version.cuda,
        triton=tv,
        python=platform.python_version(),
        triton_works=works,
        triton_warning=[str(x.message) for x in w] or None,
    )


def cuda_notebooks() -> list[str]:
    return sorted(p.stem for p in (ROOT / 'nbs').glob('*.ipynb') if '#| cuda' in p.read_text())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--device', default='cuda', help="cuda (default), cuda:1 ..., or cpu for the dry run")
    p.add_argument('--out', type=Path, default=Path('gpu_check.json'))
    p.add_argument('--fashion', type=Path, default=FASHION, help="a folder with Fashion-MNIST's four IDX files")
    a = p.parse_args(argv)
    gpu = a.device.startswith('cuda')
    res = dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        dry_run=not gpu,
        **about(a.device),
    )
    t0 = time.time()
    res['notebooks'] = {}
    for nb in cuda_notebooks():
        r = sh(
            ['nbdev_test', '--path', f'nbs/{nb}.ipynb', '--flags', 'cuda', '--n_workers', '0', '--do_print'], 900
        )  # in this environment
        res['notebooks'][nb] = dict(
            ok=r['rc'] == 0,
            seconds=r['seconds'],
            summary=(r.get('stdout') or r.get('error', '')).strip().splitlines()[-1:],
            **({} if r['rc'] == 0 else dict(output=(r.get('stdout') or '')[-4000:] + r.get('stderr_tail', ''))),
        )
        print(f"notebook {nb}: {'ok' if r['rc'] == 0 else 'FAILED'} in {r['seconds']} s", flush=True)
    small = [] if gpu else ['--batch-size', 32, '--steps', 2, '--warmup', 1, '--no-epoch']
    res['bench'] = {}
    runs = {
        'torch': [
            '--kernel',
            'torch',
        ],  # the plain scan, then the default (Triton on a GPU) in every precision, then compiled
        'auto, all precisions': ['--kernel', 'auto', '--precision', 'fp32', 'bf16', *(['fp16'] if gpu else [])],
        'auto, compiled': ['--kernel', 'auto', '--compile', '--no-epoch'],
    }
    for name, opts in runs.items():
        r = sh(cli('bench', '--device', a.device, *opts, *small), 900)
        res['bench'][name] = json_out(r) or dict(ok=False, rc=r['rc'], stderr=r.get('stderr_tail') or r.get('error'))
        b = res['bench'][name]
        print(
            f"bench, {name}: "
            + (
                ', '.join(f"{k} {v['step_s']:.4f} s ({v['ratio']:.2f}x)" for k, v in b['variants'].items())
                + f"; identical fp32 spikes: {b['identical_spikes']}"
                if 'variants' in b
                else 'FAILED'
            ),
            flush=True,
        )
    with tempfile.TemporaryDirectory() as d:
        data = ['--data-dir', a.fashion] if a.fashion.is_dir() else ['--dataset', 'fashion-mnist']
        r = sh(
            cli(
                'train',
                *data,
                '--epochs',
                3,
                '--device',
                a.device,
                '--out',
                Path(d) / 'run',
                '--quiet',
                *([] if gpu else ['--limit', 500]),
            ),
            900,
        )
        run = json_out(r)
        hist = json.loads((Path(d) / 'run' / 'metrics.json').read_text())['history'] if run else None
    res['train'] = dict(
        ok=run is not None,
        wall_s=r['seconds'],
        final=run,
        images=run and run['train_images'],
        epoch_train_s=hist and [e['train_seconds'] for e in hist],
        test_mse=hist and [e['test_mse'] for e in hist],
        **({} if run else dict(rc=r['rc'], stderr=r.get('stderr_tail') or r.get('error'))),
    )
    print(
        f"train, 3 epochs of {run['train_images'] if run else '?'} Fashion-MNIST images: "
        + (
            f"{r['seconds']} s wall, epochs {res['train']['epoch_train_s']} s, test MSE {res['train']['test_mse']}"
            if run
            else 'FAILED'
        ),
        flush=True,
    )
    res['seconds'] = round(time.time() - t0, 1)
    res['ok'] = (
        all(n['ok'] for n in res['notebooks'].values())
        and all('variants' in b for b in res['bench'].values())
        and all(b.get('identical_spikes') for b in res['bench'].values())
        and res['train']['ok']
    )
    a.out.write_text(json.dumps(res, indent=1) + '\n')
    print(f"{'passed' if res['ok'] else 'FAILED'} in {res['seconds']} s; wrote {a.out}")
    return res


if __name__ == '__main__':
    sys.exit(0 if main()['ok'] else 1)
