"Operations per image (`spiking_sae.ops`): the counter against a brute-force count, and the penalty on spikes"
from dataclasses import replace
import pytest, torch, torch.nn as nn
import snntorch as snn
from spiking_sae.config import TrainConfig, UsageError
from spiking_sae.datasets import get_data
from spiking_sae.codes import spike_trains
from spiking_sae.fast import FastSAE
from spiking_sae.model import SAE
from spiking_sae.ops import Synapse, SpikePenalty, count_ops, fan_out, spike_fraction, synapses
from spiking_sae.train import LOSSES, fit
from spiking_sae import ops as ops_mod, trainer as trainer_mod
from spiking_sae.trainer import Run, Trainer


def brute_fan_out(m: nn.Module, shape) -> torch.Tensor:
    "Products each input element enters, by walking every output position and kernel tap"
    if isinstance(m, nn.Linear):
        return torch.full(shape, float(m.out_features))
    if isinstance(m, snn.Leaky):  # spikes straight into a LIF layer: one addition to one membrane each
        return torch.ones(shape)
    C, H, W = shape
    (k, _), (s, _), (p, _), (d, _) = m.kernel_size, m.stride, m.padding, m.dilation
    count = torch.zeros(shape)
    if isinstance(m, nn.Conv2d):
        Ho, Wo = [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n in (H, W)]
        for i in range(Ho):
            for j in range(Wo):
                for u in range(k):
                    for v in range(k):
                        y, x = i * s - p + u * d, j * s - p + v * d
                        if 0 <= y < H and 0 <= x < W:
                            count[:, y, x] += m.out_channels  # every input channel, every output channel
        return count
    Ho, Wo = [(n - 1) * s - 2 * p + d * (k - 1) + m.output_padding[0] + 1 for n in (H, W)]
    for i in range(H):
        for j in range(W):
            for u in range(k):
                for v in range(k):
                    y, x = i * s - p + u * d, j * s - p + v * d
                    if 0 <= y < Ho and 0 <= x < Wo:
                        count[:, i, j] += m.out_channels
    return count


LAYERS = [
    (nn.Conv2d(2, 3, 3, stride=2, padding=1), (2, 8, 8)),
    (nn.Conv2d(2, 3, 3, stride=1, padding=1), (2, 5, 7)),
    (nn.Conv2d(1, 2, 5, stride=2, padding=2, dilation=1), (1, 9, 9)),
    (nn.Conv2d(1, 2, 3, stride=2, padding=0, dilation=2), (1, 9, 9)),
    (nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (3, 4, 4)),
    (nn.ConvTranspose2d(3, 2, 3, stride=2, padding=0), (3, 3, 3)),
    (nn.ConvTranspose2d(2, 4, 3, stride=1, padding=1), (2, 5, 5)),
    (nn.Linear(7, 5), (7,)),
]


@pytest.mark.parametrize('layer,shape', LAYERS, ids=lambda v: repr(v) if isinstance(v, nn.Module) else None)
def test_fan_out_is_brute_force(layer, shape):
    torch.testing.assert_close(fan_out(Synapse('x', layer, 'image', ()), shape).float(), brute_fan_out(layer, shape))


def test_fan_out_can_fail():
    "The brute force is not trivially equal: a layer of another stride has another count"
    a = fan_out(Synapse('x', nn.Conv2d(1, 1, 3, stride=2, padding=1), 'image', ()), (1, 6, 6)).float()
    assert not torch.equal(a, brute_fan_out(nn.Conv2d(1, 1, 3, stride=1, padding=1), (1, 6, 6)))


@pytest.fixture(scope='module')
def small():
    "A small model on 8×8 real digits (the sample, resized), trained a few steps so that its layers fire unevenly"
    trn, tst = get_data('sample', input_size=8)
    cfg = TrainConfig(input_size=8, channels=(4, 6, 8), latent_dim=5, batch_size=50, lr=3e-3, epochs=1, seed=1)
    model = fit(cfg, trn.subset(200), tst.subset(40), device='cpu').model
    return model, tst.subset(40)


def test_count_ops_is_brute_force(small):
    model, data = small
    ops = count_ops(model, data, bs=16)  # batches that do not divide the images: the sum must not care
    trains, _ = spike_trains(model, data.x)
    byname = {lay['layer']: lay for lay in ops['layers']}
    total = 0.0
    for s in synapses(model):
        if s.source == 'image':
            want = brute_fan_out(s.layer, data.x.shape[1:]).sum().item()
            assert byname[s.name]['macs'] == want
            continue
        v = trains[s.source]  # (T, B, ...): every spike, counted one by one
        h = v.reshape(-1, *v.shape[2:])
        for r in s.reshapes:
            h = r(h)
        fo = brute_fan_out(s.layer, h.shape[1:])
        per_spike = sum(fo[tuple(i)].item() for i in torch.nonzero(h)[:, 1:])
        assert byname[s.name]['sops'] == pytest.approx(per_spike / len(data), rel=1e-9), s.name
        total += per_spike / len(data)
    assert ops['sops'] == pytest.approx(total, rel=1e-9)
    assert 'decoder.1' in byname and byname['decoder.1']['type'] == 'Leaky'  # the tutorial's second LIF layer
    assert 0 < ops['sops'] < ops['dense_sops']
    # the fast engine: the same spikes, the same count
    fast = FastSAE(**model.config).eval()
    fast.load_state_dict(model.state_dict())
    assert count_ops(fast, data)['sops'] == pytest.approx(ops['sops'], rel=1e-9)


def test_penalty_is_the_loss_at_zero_and_trains_fewer_spikes():
    trn, tst = get_data('sample')
    x = trn.x[:50]
    cfg = replace(TrainConfig(), batch_size=50, lr=3e-3, epochs=1)
    assert Run.start(cfg, 'cpu').loss_fn is LOSSES['final']
    assert isinstance(Run.start(replace(cfg, spike_penalty=0.5), 'cpu').loss_fn, SpikePenalty)
    fractions = {}
    for w in (0.0, 10.0):  # a weight that outweighs the MSE (about 0.1 here), so that a few steps show it
        t = Trainer.start(replace(cfg, spike_penalty=w), 'cpu', FastSAE)
        for _ in range(8):
            t.step(x)
        with torch.no_grad():
            trains, _ = spike_trains(t.run.model.eval(), x)
        fractions[w] = spike_fraction(t.run.model, trains).item()
    assert fractions[10.0] < 0.9 * fractions[0.0], fractions  # 0.060 against 0.070 on the CPU that wrote this


def test_penalty_refused_where_it_is_not_trained(monkeypatch):
    trn, tst = get_data('sample')
    with pytest.raises(ValueError, match=r"fit trains the MSE in fp32 \(this recipe: precision=.fp32., spike_pen"):
        fit(TrainConfig(spike_penalty=0.1, epochs=1), trn.subset(10), tst.subset(10), device='cpu')
    monkeypatch.setattr(trainer_mod, 'world', lambda: (0, 2))
    with pytest.raises(UsageError, match='trains in one process'):
        Trainer.start(TrainConfig(spike_penalty=0.1), 'cpu')
    with pytest.raises(ValueError, match='spike_penalty must be a finite number >= 0'):
        TrainConfig(spike_penalty=-0.1)


def test_count_ops_refuses_no_images():
    trn, tst = get_data('sample')
    with pytest.raises(ValueError, match='at least one image'):
        count_ops(SAE().eval(), tst.subset(0))


@pytest.mark.parametrize('cls', [SAE, FastSAE])
@pytest.mark.parametrize('loss', ['final', 'time_avg'])
def test_penalty_of_weight_zero_is_the_recipe_loss(cls, loss):
    x = get_data('sample')[0].x[:16]
    torch.manual_seed(0)
    model = cls()
    plain, penalised = LOSSES[loss](model, x), SpikePenalty(loss, 0.0)(model, x)
    assert torch.equal(plain, penalised)
    assert not torch.equal(plain, SpikePenalty(loss, 0.5)(model, x))  # and a weight changes it
    with pytest.raises(ValueError, match="SpikePenalty adds to the loss 'final' or 'time_avg', not 'l1'"):
        SpikePenalty('l1', 0.1)


def test_counter_refuses_what_it_cannot_count_and_runs_under_inference_mode():
    model = SAE().eval()
    model.encoder[3].padding_mode = 'circular'
    with pytest.raises(ValueError, match="its padding_mode is 'circular'"):
        synapses(model)
    _, tst = get_data('sample')
    ops_mod._FAN_OUT.clear()  # computed afresh here, not found in the cache
    with torch.inference_mode():  # the fan-out maps are gradients: computed all the same
        assert count_ops(FastSAE().eval(), tst.subset(8))['sops'] >= 0


def test_penalty_through_the_command_line(tmp_path):
    "`spiking-sae train --spike-penalty`: the run's recipe holds it, so a resumed run trains the same loss"
    import json
    from spiking_sae.cli import parser, run
    from spiking_sae.io import load_checkpoint

    args = ['train', '--dataset', 'sample', '--epochs', '1', '--limit', '50', '--batch-size', '50', '--quiet',
            '--device', 'cpu', '--out', str(tmp_path / 'run')]
    run([*args, '--spike-penalty', '0.05'])
    assert load_checkpoint(tmp_path / 'run' / 'checkpoint.pt')['train_config']['spike_penalty'] == 0.05
    assert json.loads((tmp_path / 'run' / 'metrics.json').read_text())['history'][0]['train_loss'] > 0
    with pytest.raises(ValueError, match="was made with spike_penalty=0.05, but spike_penalty=0.1 was asked for"):
        run([*args[:4], '2', *args[5:], '--resume', '--spike-penalty', '0.1'])
    with pytest.raises(SystemExit):
        parser().parse_args(['train', '--spike-penalty', 'lots'])
