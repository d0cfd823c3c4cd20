"""A run, one step at a time: stopping `spiking-sae` at an exact batch or file write, on a machine of any speed.

Several tests interrupt a training process at a chosen moment: a second run arrives while the first trains
(nbs/12_runs), `kill -9` lands in the middle of a batch or while a file is being written (the same), Ctrl-C comes in
the third batch (nbs/13_cli), SIGTERM reaches two processes in their second epoch (nbs/20_distributed), a signal
reaches `encode` while it writes (test_package.py). A delay cannot choose that moment: half a second after the start
is mid-epoch on one CPU and after the end of the run on a faster one, and a test that passes or fails with the speed
of the machine tests nothing.

So the run itself says where it is, and waits. `python tests/stepwise.py COMMAND ...` runs `spiking-sae COMMAND ...`
with two places wrapped: every loss (computed once per batch) and `atomic_write` (through which a command writes
every file). Before each batch's loss it prints `@ batch N`; when a file is complete under its temporary name, before
the rename that makes it count, it prints `@ writing NAME`. Then it waits: for a line `go` on its standard input, or,
with `--hold WHAT`, at the report `WHAT` only, for a SIGINT or SIGTERM, however long that takes to come. Whoever runs
it decides at each report what happens next, so the moment is the same on any machine (test_stepwise.py).

It is the tests' support code, not part of the package: it replaces two of the package's functions in its own
process, as a test's mock does, and nothing in `spiking_sae` knows it exists. Under `torchrun`, give this file's path
where the module would go: `torchrun --nproc-per-node 2 tests/stepwise.py train ...`.
"""
import argparse, signal, sys, time
from pathlib import Path
from spiking_sae import cli, runs, train
from spiking_sae import io as sae_io

PATH = Path(__file__).resolve()  # `[sys.executable, stepwise.PATH, ...]` runs a command step by step


def signalled() -> bool:
    "Whether the `StopOnSignal` in force has caught a SIGINT or SIGTERM"
    h = signal.getsignal(signal.SIGTERM)
    return isinstance(getattr(h, '__self__', None), runs.StopOnSignal) and h.__self__()


class Stepwise:
    "Report each batch and each file written, and wait to be told to go on"
    def __init__(self, hold: str | None = None):
        self.hold, self.batches = hold, 0  # hold: e.g. 'batch 7'

    def pause(self, what: str):
        sys.stdout.write(f'@ {what}\n')
        sys.stdout.flush()  # one write: under torchrun, processes share the stream
        if self.hold is None:
            if sys.stdin.readline() != 'go\n':
                sys.exit(f"stopped at {what}: no 'go' on standard input")
        elif what == self.hold:
            while not signalled():
                time.sleep(0.01)  # wait for the signal, however long it takes to come

    def install(self):
        "Wrap every loss (called once per batch) and `atomic_write` (of `runs` and `io`) so that they report and wait"
        def reported(loss):
            def f(model, x):
                self.batches += 1
                self.pause(f'batch {self.batches}')
                return loss(model, x)
            return f
        for k, loss in list(train.LOSSES.items()):
            train.LOSSES[k] = reported(loss)
        write = sae_io.atomic_write  # the same function, imported by `runs`
        def held(path, w):
            return write(path, lambda tmp: (w(tmp), self.pause(f'writing {Path(path).name}')))
        runs.atomic_write = sae_io.atomic_write = held


def main():
    "`python tests/stepwise.py [--hold WHAT] COMMAND ...`: `spiking-sae COMMAND ...`, step by step"
    p = argparse.ArgumentParser(prog='python tests/stepwise.py', add_help=False, allow_abbrev=False)
    p.add_argument('--hold', metavar='WHAT', help="wait at this report ('batch 3', 'writing best.pt') for a signal")
    a, sys.argv[1:] = p.parse_known_args()
    Stepwise(a.hold).install()
    sys.exit(cli.main())


if __name__ == '__main__':
    main()
