"BatchNorm folded into the convolutions for inference (`fast.fold_batchnorm`): the same model, in evaluation only"

import pytest, torch, torch.nn as nn
from spiking_sae.datasets import get_data
from spiking_sae.codes import spike_trains
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
        (ta, oa), (tb, ob) = spike_trains(model, x), spike_trains(folded, x)
    assert sum(int(v.sum()) for v in ta.values()) > 0
    for k in ta:
        assert torch.equal(ta[k], tb[k]), k
    torch.testing.assert_close(oa, ob, atol=1e-10, rtol=0)


def test_the_step_by_step_engine_runs_a_folded_model():
    "In float32 a spike within rounding of θ may flip, so: nearly all spikes, and the same test error"
    model = pretrained('mnist-sample', engine='reference')
    x = get_data('sample')[1].x[:200]
    with torch.no_grad():
        (ta, oa), (tb, ob) = spike_trains(model, x), spike_trains(fold_batchnorm(model), x)
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


@pytest.mark.parametrize('engine', ['fast', 'reference'])
def test_a_model_just_trained_folds(engine):
    ("After a training step, snnTorch's membranes are part of the graph, which a deep copy refuses: folding copies "
     "them detached, and the folded model is of the same class and kernel, and computes the same")
    from spiking_sae.engines import engine_class
    from spiking_sae.train import make_optimizer, train_step
    from spiking_sae.config import TrainConfig
    model = engine_class(engine)(latent_dim=8, channels=(4, 8, 8), num_steps=2)
    x = get_data('sample')[1].x[:8]
    train_step(model, make_optimizer(model, TrainConfig()), x)
    model.eval()
    folded = fold_batchnorm(model)
    assert type(folded) is type(model) and getattr(folded, 'kernel', None) == getattr(model, 'kernel', None)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), atol=1e-4, rtol=1e-4)
