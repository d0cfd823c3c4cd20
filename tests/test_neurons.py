"""Learnable neurons (21_neurons) through the whole package: the command line asks for them, a run directory
resumes them exactly, and a model trained with them is used like any other."""

import pytest
import torch
from helpers import assert_same_state

FULL = pytest.mark.notebooks  # trains for several epochs or in a real process: the full run's, not the quick loop's


@FULL
def test_learnt_neurons_resume_exactly_and_load_as_constants(tmp_path):
    ("Two epochs straight equal one epoch, a checkpoint, and a resumed second epoch; the checkpoint loads as the "
     "model that learns them, and into one built without them, where β and θ are buffers")
    from spiking_sae.config import TrainConfig
    from spiking_sae.datasets import get_data
    from spiking_sae.fast import FastSAE
    from spiking_sae.io import load_model
    from spiking_sae.runs import train_in

    trn, tst = get_data('sample')
    trn, tst = trn.subset(300), tst.subset(100)
    kw = dict(batch_size=50, lr=3e-3, readout='sum', learn_beta=True, learn_threshold=True)
    straight = train_in(
        tmp_path / 'a', TrainConfig(epochs=2, **kw), trn, tst, device='cpu', progress=False, cls=FastSAE
    )
    train_in(tmp_path / 'b', TrainConfig(epochs=1, **kw), trn, tst, device='cpu', progress=False, cls=FastSAE)
    resumed = train_in(
        tmp_path / 'b', TrainConfig(epochs=2, **kw), trn, tst, resume=True, device='cpu', progress=False, cls=FastSAE
    )
    learnt = {n: p for n, p in straight.model.named_parameters() if p.ndim == 0}
    assert len(learnt) == 16 and all(p.requires_grad for p in learnt.values())
    assert not torch.isclose(learnt['encoder.2.threshold'], torch.tensor(1.0))  # it moved
    assert_same_state(straight.model, resumed.model)
    back = load_model(tmp_path / 'b' / 'checkpoint.pt', cls=FastSAE)  # built as trained: β and θ learnt
    assert {n for n, p in back.named_parameters() if p.ndim == 0} == set(learnt)
    plain = FastSAE(**{**back.config, 'learn_beta': False, 'learn_threshold': False})
    plain.load_state_dict(back.state_dict())  # β and θ are buffers, holding the learnt values
    plain.eval()
    assert not any(p.ndim == 0 for p in plain.parameters())
    assert torch.equal(plain.encoder[2].threshold, learnt['encoder.2.threshold'].detach())
    with torch.no_grad():
        assert torch.equal(plain(tst.x[:8]), straight.model.eval()(tst.x[:8]))


@FULL  # two `spiking-sae train` runs, each measuring the whole test set: 6 s here
def test_the_command_line_flags_do_what_they_say(tmp_path):
    ("`--learn-beta` / `--no-learn-threshold` through `spiking-sae train`: one batch later β has moved from 0.5 in "
     "every hidden layer, and θ is still 1.0 (not learnt); the default preset learns both")
    from spiking_sae.cli import run
    from spiking_sae.io import load_model
    from spiking_sae.model import SAE

    def hidden(out, *flags):
        run(['train', '--dataset', 'sample', '--epochs', '1', '--limit', '50', '--batch-size', '50', '--quiet',
             '--device', 'cpu', '--out', str(tmp_path / out), *flags])
        m = load_model(tmp_path / out / 'checkpoint.pt', SAE)
        return [(float(n.beta), float(n.threshold)) for n in m.modules()
                if hasattr(n, "threshold") and n is not m.decoder.out_lif]

    one = hidden('one', '--learn-beta', '--no-learn-threshold')
    assert len(one) == 7 and all(b != 0.5 and t == 1.0 for b, t in one), one
    both = hidden('both')
    assert all(b != 0.5 and t != 1.0 for b, t in both), both
