"""One trainer, proven against the Tutorial's loop: in fp32 and one process, `Trainer` takes the steps of
`train.fit` (05_train: a `DataLoader`'s batches), so the history and every weight and buffer agree bit for bit; a
run it stops half-way through an epoch and carries on agrees too. The comparison is sensitive: another seed, or one
more step, differs."""

from dataclasses import replace
import pytest

from helpers import assert_same_state

RECIPE = dict(epochs=2, batch_size=50, lr=1e-3, out_init=0.1, schedule='cosine', readout='sum')


def without_seconds(history: list) -> list:
    return [{k: v for k, v in e.items() if k != 'train_seconds'} for e in history]


@pytest.fixture(scope='module')
def tutorial():
    "The Tutorial's loop on 150 sample digits, 3 batches an epoch: the specification"
    from spiking_sae.config import TrainConfig
    from spiking_sae.datasets import get_data
    from spiking_sae.train import fit

    trn, tst = get_data('sample')
    small, tsmall = trn.subset(150), tst.subset(50)
    cfg = TrainConfig(**RECIPE)
    return cfg, small, tsmall, fit(cfg, small, tsmall, device='cpu')


def test_the_trainer_takes_the_tutorial_loops_steps(tutorial):
    from spiking_sae.trainer import Trainer

    cfg, small, tsmall, ref = tutorial
    trainer = Trainer.start(cfg, 'cpu')
    run = trainer.fit(small, tsmall, progress=False)
    assert without_seconds(run.history) == without_seconds(ref.history)
    assert_same_state(run.model, ref.model)
    assert (trainer.net is run.model, trainer.scaler, trainer.processes) == (True, None, 1)


def test_a_stopped_and_resumed_run_takes_them_too(tutorial):
    from spiking_sae.trainer import Trainer

    cfg, small, tsmall, ref = tutorial
    asked = iter([False] * 3 + [True])  # before epoch 1, before its batches 1 and 2, then stop before batch 3
    trainer = Trainer.start(cfg, 'cpu')
    run = trainer.fit(small, tsmall, progress=False, stop=lambda: next(asked, False))
    assert (len(run.history), trainer.partial['batches_done']) == (0, 2)
    run = trainer.fit(small, tsmall, progress=False)
    assert without_seconds(run.history) == without_seconds(ref.history)
    assert_same_state(run.model, ref.model)


def test_the_comparison_can_fail(tutorial):
    "Another seed, or one more step, gives other weights: the equality above is not one that always holds"
    from spiking_sae.trainer import Trainer

    cfg, small, tsmall, ref = tutorial
    other = Trainer.start(replace(cfg, seed=1), 'cpu').fit(small, tsmall, progress=False)
    with pytest.raises(AssertionError, match='differ'):
        assert_same_state(other.model, ref.model)
    more = Trainer.start(cfg, 'cpu')
    asked = iter([False] * 6 + [True])  # stops in epoch 2 after one batch
    more.fit(small, tsmall, progress=False, stop=lambda: next(asked, False))
    with pytest.raises(AssertionError, match='differ'):  # one batch short
        assert_same_state(more.run.model, ref.model)
    more.step(small.x[:50])  # and one step more than that, on another batch
    with pytest.raises(AssertionError, match='differ'):
        assert_same_state(more.run.model, ref.model)


def test_the_trainer_honours_the_precision_and_fit_refuses_it(tutorial):
    "A bf16 recipe trains in bf16 (one step lands elsewhere than fp32's); the Tutorial's `fit`, fp32 only, says so"
    import warnings
    from spiking_sae.train import fit
    from spiking_sae.trainer import Trainer

    cfg, small, tsmall, _ = tutorial
    x = small.x[:50]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # a CPU without bf16 arithmetic warns that it emulates it
        bf16 = Trainer.start(replace(cfg, precision='bf16'), 'cpu')
        bf16.step(x)
    fp32 = Trainer.start(cfg, 'cpu')
    fp32.step(x)
    with pytest.raises(AssertionError, match='differ'):
        assert_same_state(bf16.run.model, fp32.run.model)
    with pytest.raises(ValueError, match=r"fit trains the MSE in fp32 \(this recipe: precision='bf16'"):
        fit(replace(cfg, precision='bf16'), small, tsmall, device='cpu')


def test_an_empty_set_is_refused_before_training(tutorial):
    "An empty training or test set stops the trainer at once with a sentence, not an error deep in an epoch"
    from spiking_sae.trainer import Trainer

    cfg, small, tsmall, _ = tutorial
    with pytest.raises(ValueError, match='no training images'):
        Trainer.start(cfg, 'cpu').fit(small.subset(0), tsmall, progress=False)
    with pytest.raises(ValueError, match='no test images: the test set is empty'):
        Trainer.start(cfg, 'cpu').fit(small, tsmall.subset(0), progress=False)
