"""The tests' harness that runs a command one step at a time (stepwise.py): what it reports, and how it stops"""
import signal, subprocess, sys
import stepwise


def run(out, *options):
    "Start `spiking-sae train` of a small run into `out` under the harness, in a process of its own"
    args = ['train', '--dataset', 'sample', '--limit', '96', '--batch-size', '32', '--num-steps', '2', '--epochs', '1',
            '--device', 'cpu', '--quiet', '--out', str(out)]
    return subprocess.Popen([sys.executable, str(stepwise.PATH), *options, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_it_reports_each_batch_then_each_file_in_the_order_they_are_written(tmp_path):
    "One epoch on 96 digits in batches of 32, told `go` at every report: three batches, then the five files"
    p = run(tmp_path / 'all')
    out, err = p.communicate('go\n' * 20)
    assert p.returncode == 0, err
    assert [line[2:] for line in out.splitlines() if line.startswith('@ ')] == [
        'batch 1', 'batch 2', 'batch 3', 'writing checkpoint.pt', 'writing best.pt', 'writing metrics.json',
        'writing recon.png', 'writing losses.png']


def test_not_told_to_go_on_it_stops_where_it_is_and_leaves_nothing(tmp_path):
    "Three batches and no word for the first file: one line saying where, and neither the file nor its temporary name"
    p = run(tmp_path / 'stopped')
    _, err = p.communicate('go\n' * 3)
    assert (p.returncode, err.splitlines()[-1]) == (1, "stopped at writing checkpoint.pt: no 'go' on standard input")
    assert list((tmp_path / 'stopped').iterdir()) == []  # no file, half-written or whole, and no lock


def test_held_at_a_report_it_waits_for_the_signal_that_stops_the_run_there(tmp_path):
    "`--hold 'batch 2'` reads nothing, waits in the second batch, and a SIGINT stops the run after that batch"
    p = run(tmp_path / 'held', '--hold', 'batch 2')
    for line in p.stdout:
        if line == '@ batch 2\n':
            break  # it waits there
    p.send_signal(signal.SIGINT)
    _, err = p.communicate()
    assert p.returncode == 130, err
    assert 'training interrupted by SIGINT in epoch 1 after batch 2 of 3' in err
