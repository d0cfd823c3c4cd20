"""`spiking-sae train` checks every option before any work (issue 15): whatever values it is given, it either trains
or stops with one line that names a wrong option; never a traceback, never a run on other data than asked for.

A property test (hypothesis): each example runs `spiking-sae train` on a few images of the embedded sample, with a
combination of options drawn from valid values and values that are not (zero, negatives, nan, inf, huge, not numbers
at all). Which values are valid is written here from the issue's rules, not read from the package, so that the test
can catch a rule the package gets wrong. The examples run the command's `main()` in this process, as the console
script does (its exit code and what it writes to stderr, as the interpreter would report them), which spares each
the import of torch; a few run as real processes, to show that the two agree."""

import contextlib, io, json, os, subprocess, sys, tempfile, warnings
from pathlib import Path
import pytest
from hypothesis import example, given, settings, strategies as st
from spiking_sae import cli

FULL = pytest.mark.notebooks  # trains for several epochs or in a real process: the full run's, not the quick loop's

CLI = [sys.executable, '-m', 'spiking_sae']
TRAIN_IMAGES = 4000  # in the embedded sample

# option: (valid values, chosen to keep a run to seconds; values that must be refused)
OPTIONS = {
    '--epochs': (['1', '2'], ['0', '-2', '10000000000', 'nan', '1.5', 'two']),
    '--batch-size': (['8', '64', '1000000000'], ['0', '-1', 'inf', '2.5']),
    '--limit': (['1', '24'], ['0', '-5', str(TRAIN_IMAGES + 1), '10000000000000', 'nan']),
    '--lr': (['0.003', '1e-12', '1e30'], ['0', '-0.001', 'nan', 'inf', '-inf', 'fast']),
    '--weight-decay': (['0', '0.001', '100'], ['-0.001', 'nan', 'inf']),
    '--beta': (['0', '0.5', '1'], ['1.5', '-0.1', 'nan', 'inf']),
    '--threshold': (['1', '1e-09', '1000000'], ['0', '-1', 'nan', 'inf']),
    '--num-steps': (['1', '3'], ['0', '-3', '1000000000', 'nan']),
    '--seed': (['0', '7', str(2**40)], ['-1', str(2**70), '0.5']),
}


@st.composite
def command_lines(draw):
    "A base of valid options, some left out, and none to three of them given a value that must be refused"
    chosen = draw(st.lists(st.sampled_from(sorted(OPTIONS)), unique=True))
    values = {o: draw(st.sampled_from(OPTIONS[o][0])) for o in chosen}
    for o in draw(st.lists(st.sampled_from(sorted(OPTIONS)), unique=True, max_size=3)):
        values[o] = draw(st.sampled_from(OPTIONS[o][1]))
    return values


def in_process(args: list) -> tuple[int, str, str]:
    "Run `spiking-sae ARGS` as the console script does, in this process: exit code, stdout, stderr"
    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = ['spiking-sae', *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter('default')  # shown once each, on stderr, as a new process shows them (not to pytest)
            warnings.showwarning = lambda *w, **kw: sys.stderr.write(warnings.formatwarning(*w[:4]))
            try:
                code = cli.main()
            except SystemExit as e:  # what the interpreter does with it: a message goes to stderr, with status 1
                code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
                if isinstance(e.code, str):
                    print(e.code, file=sys.stderr)
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


def in_subprocess(args: list) -> tuple[int, str, str]:
    "Run `spiking-sae ARGS` in a process of its own: exit code, stdout, stderr"
    res = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)
    return res.returncode, res.stdout, res.stderr


def train(values: dict, out: Path, run=in_process):
    "Run `spiking-sae train` with `values` into `out`: return code, stdout, stderr"
    args = ['train', '--dataset', 'sample', '--device', 'cpu', '--quiet', '--out', str(out)]
    args += [a for o, v in values.items() for a in (o, v)]
    if '--limit' not in values:
        args += ['--limit', '24']  # keep runs short
    if '--epochs' not in values:
        args += ['--epochs', '1']
    if '--num-steps' not in values:
        args += ['--num-steps', '2']
    return run(args)


@FULL
@settings(max_examples=25, deadline=None, derandomize=True)
@given(command_lines())
@example({'--epochs': '0'}).via('the issue: IndexError in cli.train_cmd')
@example({'--epochs': '-2'}).via('the issue')
@example({'--batch-size': '0'}).via('the issue: ZeroDivisionError in fit')
@example({'--limit': '-5'}).via('the issue: trained on all but five images')
def test_train_options_train_or_stop_with_one_line(values):
    with tempfile.TemporaryDirectory() as tmp:
        check(values, *train(values, Path(tmp) / 'run'))


def check(values: dict, code: int, out: str, err: str):
    ("Fail unless `spiking-sae train` with `values` trained on what was asked, or stopped with one line naming a "
     "wrong option")
    bad = [o for o, v in values.items() if v not in OPTIONS[o][0]]
    assert 'Traceback' not in err, f"{values}: a traceback\n{err}"
    if code == 0:
        assert not bad, f"{values}: trained although {bad} must be refused"
        limit = int(values.get('--limit', 24))
        assert json.loads(out)['train_images'] == limit, f"{values}: trained on other images than the {limit} asked for"
        return
    # `==> DATA:` notes are not errors
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith('==> ')]
    assert len(lines) == 1, f"{values}: exit {code} with {len(lines)} lines on stderr, not one:\n{err}"
    assert lines[0].startswith('spiking-sae train: error: '), f"{values}: {lines[0]}"
    if bad:
        assert any(o in lines[0] for o in bad), f"{values}: the error names none of {bad}: {lines[0]}"
    else:
        assert 'loss became' in lines[0], f"{values}: valid options refused: {lines[0]}"  # a learning rate of 1e30


@FULL
@pytest.mark.parametrize('values', [{}, {'--epochs': '0'}, {'--lr': 'fast'}, {'--lr': '1e30'}], ids=str)
def test_a_real_process_says_the_same(values, tmp_path):
    "In a process of its own, the command exits with the same status and says the same as in this one"
    real, here = train(values, tmp_path / 'real', in_subprocess), train(values, tmp_path / 'here')
    check(values, *real)
    def said(r):
        return (r[0], [line for line in r[2].splitlines() if not line.startswith('==> ')],
                json.loads(r[1])['train_images'] if r[0] == 0 else None)
    assert said(real) == said(here), f"{values}: a process says {said(real)}, this one {said(here)}"


def test_files_get_the_umask_in_force_when_they_are_written(tmp_path):
    "A umask set after the package was imported is the one a written file gets, and reading it changes nothing"
    from spiking_sae.io import atomic_write

    old = os.umask(0o077)
    try:
        atomic_write(tmp_path / 'private.json', lambda p: p.write_text('{}'))
        assert os.umask(0o077) == 0o077  # still the umask this test set
    finally:
        os.umask(old)
    atomic_write(tmp_path / 'usual.json', lambda p: p.write_text('{}'))
    assert (tmp_path / 'private.json').stat().st_mode & 0o777 == 0o600
    assert (tmp_path / 'usual.json').stat().st_mode & 0o777 == 0o666 & ~old


def test_running_out_of_memory_while_loading_is_not_called_a_corrupt_checkpoint(tmp_path, monkeypatch):
    "`load_checkpoint` calls a file it cannot read corrupt or unsafe, but lets out-of-memory through as it is"
    import torch
    from spiking_sae.io import load_checkpoint

    ckpt = tmp_path / 'checkpoint.pt'
    torch.save({'epoch': 1}, ckpt)
    assert load_checkpoint(ckpt) == {'epoch': 1}
    (tmp_path / 'bad.pt').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='it may be corrupt'):
        load_checkpoint(tmp_path / 'bad.pt')

    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 2.00 GiB')

    monkeypatch.setattr(torch, 'load', oom)
    with pytest.raises(torch.OutOfMemoryError, match='out of memory'):
        load_checkpoint(ckpt)
