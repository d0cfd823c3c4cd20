"""The model's code: `encode_spikes`, `decode_spikes` and `spike_trains` agree between the engines, in training and
in evaluation mode, and `SAE.forward` (encode every step, then decode) is the loop of one step of each in turn"""

import copy
import pytest, torch
from spiking_sae.codes import spike_trains
from spiking_sae.datasets import get_data
from spiking_sae.fast import FastSAE
from spiking_sae.model import SAE
from spiking_sae.recipes import PRESETS


def _pair(preset):
    torch.manual_seed(0)
    ref = SAE(**PRESETS[preset].model_kwargs())
    fast = FastSAE(**ref.config)
    fast.load_state_dict(ref.state_dict())
    return ref, fast


def _statistics(a, b):
    "Pairs of the BatchNorm buffers of two models of one architecture (not snnTorch's membranes)"
    keep = ('running_mean', 'running_var', 'num_batches_tracked')
    pairs = [((n, p), q) for (n, p), q in zip(a.named_buffers(), b.buffers()) if n.endswith(keep)]
    assert len(pairs) == 3 * 5  # five BatchNorm layers
    return pairs


@pytest.mark.parametrize('preset', ['tutorial', 'pooled'])
@pytest.mark.parametrize('training', [True, False])
def test_both_engines_encode_and_record_alike(preset, training):
    x = get_data('sample')[1].x[:16]
    ref, fast = _pair(preset)
    ref.train(training), fast.train(training)
    with torch.no_grad():
        a, b = ref.encode_spikes(x), fast.encode_spikes(x)
        (ta, oa), (tb, ob) = spike_trains(ref, x, record=True), spike_trains(fast, x, record=True)
    assert a.shape == (5, 16, 32) and torch.equal(a, b)
    assert list(ta) == list(tb) and all(torch.equal(ta[k], tb[k]) for k in ta)
    assert torch.equal(ta['encoder.11'], a) and torch.equal(oa.spikes, a)
    torch.testing.assert_close(oa.image, ob.image, rtol=0, atol=1e-5)
    # the BatchNorm statistics moved alike in both engines (three calls each in training mode)
    for (n, p), q in _statistics(ref, fast):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6, msg=n)


def test_forward_is_one_step_of_each_half_in_turn():
    "Encoding all steps, then decoding them, is the interleaved loop: outputs and BatchNorm statistics (training mode)"
    x = get_data('sample')[1].x[:16]
    torch.manual_seed(0)
    model = SAE()
    loop = copy.deepcopy(model)
    out = model(x, record=True)
    loop.reset()
    mems, spikes = [], []
    for _ in range(loop.num_steps):
        spk = loop.encoder(x)[0]
        mems.append(loop.decoder(loop.linearNet(spk)[0])[1])
        spikes.append(spk)
    assert torch.equal(out.mems, torch.stack(mems)) and torch.equal(out.spikes, torch.stack(spikes))
    for (n, p), q in _statistics(model, loop):
        assert torch.equal(p, q), n
    out.image.sum().backward()  # the graph reaches every weight, as the loop's does
    assert all(p.grad is not None for n, p in model.named_parameters() if 'bn' not in n)


def test_decode_spikes_refuses_an_empty_train_and_run_an_unknown_last_layer():
    ref, fast = _pair('tutorial')
    with pytest.raises(ValueError, match='at least one time step'):
        ref.decode_spikes(torch.zeros(0, 2, 32))
    with pytest.raises(ValueError, match='not a hidden Leaky layer'):
        fast.run(get_data('sample')[1].x[:2], last=fast.decoder.out_lif)


def test_spike_trains_saved_as_uint8_decode_to_the_same_image():
    "`spiking-sae encode` saves trains as uint8: `decode_spikes` takes them as they are"
    x = get_data('sample')[1].x[:8]
    model = SAE().eval()
    with torch.no_grad():
        code = model.encode_spikes(x)
        assert torch.equal(model.decode_spikes(code.to(torch.uint8)), model(x))
