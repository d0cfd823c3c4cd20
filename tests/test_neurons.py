"""Learnable neurons (notebook 23) through the whole package: the command line asks for them, a run directory
resumes them exactly, and a model trained with them is used like any other."""

import torch


def test_learnt_neurons_resume_exactly_and_load_as_constants(tmp_path):
    "Two epochs straight equal one epoch, a checkpoint, and a resumed second epoch; the result loads as a plain SAE"
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
    for (n, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), n
    plain = load_model(tmp_path / 'b' / 'checkpoint.pt', cls=FastSAE)  # β and θ are buffers, holding the learnt values
    assert not any(p.ndim == 0 for p in plain.parameters())
    assert torch.equal(plain.encoder[2].threshold, learnt['encoder.2.threshold'].detach())
    with torch.no_grad():
        assert torch.equal(plain(tst.x[:8]), straight.model.eval()(tst.x[:8]))


def test_the_command_line_asks_for_them():
    from spiking_sae.cli import parser

    a = parser().parse_args(['train', '--learn-beta', '--learn-threshold'])
    assert a.learn_beta is True and a.learn_threshold is True
    assert parser().parse_args(['train']).learn_beta is None  # the preset decides
