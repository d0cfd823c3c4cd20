"""BatchNorm over time (22_bn_time) through the whole package: the command line asks for it, a run directory
resumes it exactly, in either engine, across processes it is exercised by 20_distributed (the default preset uses it), a
model without time steps is refused, and a model trained with it is used like any other."""

import pytest
import torch
from helpers import assert_same_state

FULL = pytest.mark.notebooks  # trains for several epochs or in a real process: the full run's, not the quick loop's


@FULL
def test_bn_over_time_resumes_exactly_and_loads_as_plain_batchnorm(tmp_path):
    "Two epochs straight equal one epoch, a checkpoint, and a resumed second epoch; the result loads as a plain SAE"
    from spiking_sae.bn_time import BatchNormOverTime
    from spiking_sae.config import TrainConfig
    from spiking_sae.datasets import get_data
    from spiking_sae.fast import FastSAE
    from spiking_sae.io import load_model
    from spiking_sae.model import SAE
    from spiking_sae.runs import train_in

    trn, tst = get_data('sample')
    trn, tst = trn.subset(300), tst.subset(100)
    kw = dict(batch_size=50, lr=3e-3, readout='sum', double_lif=False, bn_stats='over_time')
    straight = train_in(
        tmp_path / 'a', TrainConfig(epochs=2, **kw), trn, tst, device='cpu', progress=False, cls=FastSAE
    )
    train_in(tmp_path / 'b', TrainConfig(epochs=1, **kw), trn, tst, device='cpu', progress=False, cls=FastSAE)
    resumed = train_in(
        tmp_path / 'b', TrainConfig(epochs=2, **kw), trn, tst, resume=True, device='cpu', progress=False, cls=FastSAE
    )
    assert isinstance(resumed.model.encoder[1], BatchNormOverTime)
    assert_same_state(straight.model, resumed.model)
    per_step = train_in(
        tmp_path / 'c', TrainConfig(epochs=2, **{**kw, 'bn_stats': 'per_step'}), trn, tst, device='cpu',
        progress=False, cls=FastSAE,
    )
    assert not torch.equal(per_step.model.encoder[4].running_var, straight.model.encoder[4].running_var)
    plain = load_model(tmp_path / 'b' / 'checkpoint.pt', cls=SAE).eval()  # the step-by-step engine evaluates it
    with torch.no_grad():
        torch.testing.assert_close(plain(tst.x[:8]), straight.model.eval()(tst.x[:8]), rtol=0, atol=1e-5)


@FULL
def test_the_step_by_step_engine_trains_it_and_resumes_exactly(tmp_path):
    "SAE(bn_stats='over_time') trains layer by layer; two epochs straight equal one, a checkpoint and one more"
    from spiking_sae.config import TrainConfig
    from spiking_sae.datasets import get_data
    from spiking_sae.runs import train_in

    trn, tst = get_data('sample')
    trn, tst = trn.subset(200), tst.subset(50)
    kw = dict(batch_size=50, lr=3e-3, readout='sum', double_lif=False, bn_stats='over_time', learn_beta=True)
    straight = train_in(tmp_path / 'a', TrainConfig(epochs=2, **kw), trn, tst, device='cpu', progress=False)
    from spiking_sae.bn_time import BatchNormOverTime
    from spiking_sae.model import SAE

    assert type(straight.model) is SAE and isinstance(straight.model.encoder[1], BatchNormOverTime)
    train_in(tmp_path / 'b', TrainConfig(epochs=1, **kw), trn, tst, device='cpu', progress=False)
    resumed = train_in(tmp_path / 'b', TrainConfig(epochs=2, **kw), trn, tst, resume=True, device='cpu', progress=False)
    assert_same_state(straight.model, resumed.model)


def test_a_model_without_time_steps_is_refused(tmp_path):
    from spiking_sae.analysis import TwinAE
    from spiking_sae.config import TrainConfig
    from spiking_sae.datasets import get_data
    from spiking_sae.runs import train_in

    trn, tst = get_data('sample')
    with pytest.raises(ValueError, match="no time steps to pool BatchNorm over: train it with bn_stats='per_step'"):
        train_in(tmp_path / 'r', TrainConfig(epochs=1, bn_stats='over_time'), trn.subset(100), tst.subset(50),
                 device='cpu', progress=False, cls=TwinAE)
    assert not (tmp_path / 'r' / 'checkpoint.pt').exists()


@FULL  # two `spiking-sae train` runs, each measuring the whole test set: 8 s here
def test_the_command_line_flag_does_what_it_says(tmp_path):
    ("`--bn-stats` through `spiking-sae train`, one batch: the first BatchNorm sees the same input at all T = 5 "
     "steps, so per step its running mean takes 5 updates of momentum 0.1, 1 − 0.9⁵ = 0.40951 of the batch mean, "
     "and pooled over time one, 0.1 of it: 4.0951 times apart. An unknown value stops with a usage error")
    from spiking_sae.cli import parser, run
    from spiking_sae.io import load_model
    from spiking_sae.model import SAE

    def first_bn_mean(out, stats):
        run(['train', '--dataset', 'sample', '--epochs', '1', '--limit', '50', '--batch-size', '50', '--quiet',
             '--device', 'cpu', '--bn-stats', stats, '--out', str(tmp_path / out)])
        return load_model(tmp_path / out / 'checkpoint.pt', SAE).encoder[1].running_mean

    per_step, pooled = first_bn_mean('a', 'per_step'), first_bn_mean('b', 'over_time')
    torch.testing.assert_close(per_step, pooled * (1 - 0.9**5) / 0.1, rtol=1e-4, atol=1e-7)
    with pytest.raises(SystemExit):
        parser().parse_args(['train', '--bn-stats', 'pooled'])


@pytest.mark.parametrize('same_input', [True, False])
@pytest.mark.parametrize('momentum', [0.1, None])
def test_all_steps_is_batchnorm_over_every_step(same_input, momentum):
    "`all_steps` on rows image by image (S = 1 or T) equals nn.BatchNorm2d on all T·B rows, statistics included"
    from torch import nn
    from spiking_sae.bn_time import BatchNormOverTime

    B, T, C = 6, 4, 3
    g = torch.Generator().manual_seed(0)
    plain = nn.BatchNorm2d(C, momentum=momentum).double()
    with torch.no_grad():
        plain.weight.uniform_(0.5, 1.5, generator=g)
        plain.bias.uniform_(-0.5, 0.5, generator=g)
    pooled = BatchNormOverTime(C, momentum=momentum).double()
    pooled.load_state_dict(plain.state_dict())
    h = torch.randn(B, 1 if same_input else T, C, 5, 5, generator=g, dtype=torch.float64) * 3 + 1
    for _ in range(2):  # the second call blends into the running statistics the first one left
        out = pooled.all_steps(h.flatten(0, 1), B, T).view(B, -1, C, 5, 5)
        want = plain(h.expand(B, T, C, 5, 5).transpose(0, 1).reshape(T * B, C, 5, 5)).view(T, B, C, 5, 5)
        torch.testing.assert_close(out.expand(B, T, C, 5, 5), want.transpose(0, 1), rtol=0, atol=1e-12)
        torch.testing.assert_close(pooled.running_mean, plain.running_mean, rtol=0, atol=1e-12)
        torch.testing.assert_close(pooled.running_var, plain.running_var, rtol=0, atol=1e-12)
        assert pooled.num_batches_tracked == plain.num_batches_tracked
