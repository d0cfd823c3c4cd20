"BatchNorm folded into the convolutions for inference (`fast.fold_batchnorm`): the same model, in evaluation only"

import pytest, torch, torch.nn as nn
from spiking_sae.datasets import get_data
from spiking_sae.fast import fold_batchnorm
from spiking_sae.engines import pretrained
from spiking_sae.model import SAE


def test_folded_fires_the_same_spikes_in_float64():
    model = pretrained('mnist-sample').double()  # FastSAE: snnTorch's Leaky, in SAE, spikes in float32 only
    x = get_data('sample')[1].x[:64].double()
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # the original is left as it was
    with torch.no_grad():
        (ta, oa), (tb, ob) = model.spike_trains(x), folded.spike_trains(x)
    assert sum(int(v.sum()) for v in ta.values()) > 0
    for k in ta:
        assert torch.equal(ta[k], tb[k]), k
    torch.testing.assert_close(oa, ob, atol=1e-10, rtol=0)


def test_the_step_by_step_engine_runs_a_folded_model():
    "In float32 a spike within rounding of θ may flip, so: nearly all spikes, and the same test error"
    model = pretrained('mnist-sample', engine='reference')
    x = get_data('sample')[1].x[:200]
    with torch.no_grad():
        (ta, oa), (tb, ob) = model.spike_trains(x), fold_batchnorm(model).spike_trains(x)
    flips, total = sum(int((ta[k] != tb[k]).sum()) for k in ta), sum(v.numel() for v in ta.values())
    assert flips < 1e-4 * total
    mse = [float(((o - x) ** 2).mean()) for o in (oa, ob)]
    assert abs(mse[0] - mse[1]) < 1e-3 * mse[0]


def test_a_folded_model_refuses_to_train():
    folded = fold_batchnorm(SAE())
    x = get_data('sample')[1].x[:2]
    with pytest.raises(RuntimeError, match='folded into its convolutions'):
        folded.train()(x)
    assert not any(p.requires_grad for p in folded.parameters())


def test_a_batchnorm_without_a_convolution_before_it_is_refused():
    model = SAE()
    model.decoder[1] = nn.Sequential(model.decoder[1])  # anything that is not a convolution
    model.decoder.insert(2, nn.BatchNorm2d(128))
    with pytest.raises(TypeError, match='cannot fold BatchNorm2d after Sequential'):
        fold_batchnorm(model)


def test_a_batchnorm_it_cannot_reach_is_refused_not_left_unfolded():
    model = SAE()
    model.decoder[0] = nn.Sequential(nn.BatchNorm2d(128), model.decoder[0])  # nested, with no convolution before it
    with pytest.raises(TypeError, match=r'cannot fold decoder\.0\.0'):
        fold_batchnorm(model)
