"""What a PyTorch user meets through the API and the command line: errors that say what to do, unexpected errors
that keep their traceback, options taken only as spelt, presets that cannot be changed in place, the Triton check
safe under inference mode."""

import dataclasses, importlib.util, os, subprocess, sys
import pytest
import torch


@pytest.mark.parametrize('engine', ['reference', 'fast'])
def test_a_bf16_cast_model_says_to_use_autocast(engine):
    "`model.to(torch.bfloat16)` stops with what to do instead, not a raw dtype error from a convolution"
    from spiking_sae.engines import engine_class

    model = engine_class(engine)(latent_dim=8, channels=(4, 8, 8)).to(torch.bfloat16)
    with pytest.raises(ValueError, match=r"weights are torch.bfloat16.*torch.autocast \(to train: --precision bf16\)"):
        model(torch.rand(2, 1, 32, 32))
    with torch.autocast('cpu', dtype=torch.bfloat16):  # what it says to do works
        assert model.float()(torch.rand(2, 1, 32, 32)).dtype == torch.float32


def test_unexpected_errors_keep_their_traceback(monkeypatch, capsys):
    "A user's mistake is one line and status 1; anything else (a bug, out of memory) is raised with its traceback"
    from spiking_sae import cli
    from spiking_sae.config import UsageError

    def fails(error):
        def command(args):
            raise error
        return command

    monkeypatch.setitem(cli.COMMANDS, 'eval', fails(UsageError("the lock is held: wait or remove it")))
    assert cli.main(['eval', 'mnist-sample']) == 1
    assert capsys.readouterr().err == "spiking-sae eval: error: the lock is held: wait or remove it\n"
    monkeypatch.setitem(cli.COMMANDS, 'eval', fails(RuntimeError("CUDA out of memory")))
    with pytest.raises(RuntimeError, match='CUDA out of memory'):
        cli.main(['eval', 'mnist-sample'])


def test_options_are_taken_only_as_spelt(capsys):
    "No abbreviations: `--epoch` is not `--epochs`, so a new option cannot change what a user's command means"
    from spiking_sae.cli import parser

    assert parser().parse_args(['train', '--epochs', '3']).epochs == 3
    with pytest.raises(SystemExit):
        parser().parse_args(['train', '--epoch', '3'])
    assert 'unrecognized arguments: --epoch 3' in capsys.readouterr().err


def test_presets_cannot_be_changed_in_place():
    from spiking_sae.recipes import DEFAULT_PRESET, PRESETS

    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS['best'].lr = 1.0
    with pytest.raises(TypeError):
        PRESETS['mine'] = PRESETS['best']
    assert dataclasses.replace(PRESETS[DEFAULT_PRESET], lr=1.0).lr == 1.0 != PRESETS[DEFAULT_PRESET].lr


@pytest.mark.skipif(importlib.util.find_spec('triton') is None, reason="needs triton (CUDA builds of torch bring it)")
def test_triton_check_is_safe_under_inference_mode():
    ("The first check of the Triton kernel may come under torch.inference_mode (an evaluation): it still runs "
     "forward and backward and passes, under Triton's CPU interpreter")
    code = ("import torch, warnings\nimport spiking_sae.scan as scan\nwarnings.simplefilter('error')\n"
            "with torch.inference_mode():\n    assert scan.triton_works('cpu')\nprint('ok')")
    env = {**os.environ, 'TRITON_INTERPRET': '1'}
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.split() == ['ok'], out.stderr[-3000:]
