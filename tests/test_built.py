"""A model that says what it is: the constructor takes the whole architecture, `config.json` holds exactly its
arguments, a shipped model loads as the network that was trained, fine-tuning it trains that network, and files
from before (older `config.json` layouts, checkpoints) keep loading and resuming exactly."""

import json, shutil
from pathlib import Path
import pytest
import torch, torch.nn as nn

from helpers import assert_same_state

ROOT = Path(__file__).parent.parent
POOLED = ('fashion-mnist', 'mnist-sample')



@pytest.mark.parametrize('name', ['fashion-mnist', 'mnist-sample', 'mnist-sample-best'])
def test_a_shipped_model_is_built_as_it_was_trained(name):
    ("`config.json`, as written, holds the architecture the recipe in `meta.json` trained; what it builds has the "
     "BatchNorm and neurons of that recipe; and the weights agree: a BatchNorm's `num_batches_tracked` counts one "
     "update per batch when its statistics are pooled over time, T per batch when they are taken per step")
    from spiking_sae.bn_time import BatchNormOverTime
    from spiking_sae.config import MODEL_RULES
    from spiking_sae.model import SAE

    folder = ROOT / 'spiking_sae' / 'weights' / name
    written, meta = (json.loads((folder / f).read_text()) for f in ('config.json', 'meta.json'))
    recipe = meta['train_config']
    assert written == {k: recipe[k] for k in MODEL_RULES}  # the file itself, not filled in by the reader
    model = SAE.from_pretrained(name)
    assert model.config == written
    pooled = recipe['bn_stats'] == 'over_time'
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(isinstance(m, BatchNormOverTime) == pooled for m in norms)
    batches = meta['epochs'] * -(-meta['train_images'] // recipe['batch_size'])
    assert {int(m.num_batches_tracked) for m in norms} == {batches * (1 if pooled else recipe['num_steps'])}
    learnt = {n: p for n, p in model.named_parameters() if p.ndim == 0}
    hidden = 7 if not recipe['double_lif'] else 8  # LIF layers but the output's
    assert len(learnt) == hidden * (recipe['learn_beta'] + recipe['learn_threshold'])
    assert all(p.requires_grad for p in learnt.values())


@pytest.mark.parametrize('name', POOLED)
def test_fine_tuning_a_shipped_model_trains_the_network_that_was_shipped(name):
    ("One AdamW step from `SAE.from_pretrained(name)`, with the run's optimiser, gives the weights that one more step "
     "of the run that made it gives: the model the run's recipe builds, filled with the shipped weights")
    from spiking_sae.config import TrainConfig
    from spiking_sae.datasets import get_data
    from spiking_sae.model import SAE
    from spiking_sae.train import make_optimizer, train_step
    from spiking_sae.trainer import Run

    x = get_data('sample')[1].x[:32]
    loaded = SAE.from_pretrained(name)
    cfg = TrainConfig(**{**loaded.meta['train_config'], 'channels': tuple(loaded.meta['train_config']['channels'])})
    run = Run.start(cfg, 'cpu')  # the model and optimiser of the run that made it
    run.model.load_state_dict(loaded.state_dict())
    for m, opt in ((loaded, make_optimizer(loaded, cfg)), (run.model, run.opt)):
        m.train()
        train_step(m, opt, x)
    assert_same_state(loaded, run.model)
    untouched = SAE.from_pretrained(name)  # and the step changed the learnt neurons, as the run's would
    assert not torch.equal(loaded.encoder[2].beta, untouched.encoder[2].beta)


def test_old_config_layouts_take_the_architecture_from_their_recipe(tmp_path):
    ("A model folder of the earlier layout (arguments and `meta` in one `config.json`, without `bn_stats`, "
     "`learn_beta`, `learn_threshold`) loads as the network its recipe trained")
    from spiking_sae.model import SAE

    old = tmp_path / 'fashion-mnist'
    shutil.copytree(ROOT / 'spiking_sae' / 'weights' / 'fashion-mnist', old)
    config, meta = (json.loads((old / f).read_text()) for f in ('config.json', 'meta.json'))
    (old / 'meta.json').unlink()
    earlier = {k: v for k, v in config.items() if k not in ('bn_stats', 'learn_beta', 'learn_threshold')}
    (old / 'config.json').write_text(json.dumps({**earlier, 'meta': meta}))
    assert SAE.from_pretrained(old).config == config
    assert_same_state(SAE.from_pretrained(old), SAE.from_pretrained('fashion-mnist'))


def test_a_checkpoint_from_before_resumes_with_its_optimiser_state_in_place(tmp_path):
    ("`tests/data/pre-constructor-run`: one epoch of the default recipe (learnt β and θ) on 64 digits, checkpointed by "
     "the library before β and θ were the model's arguments, when its optimiser listed them (β, θ) layer by layer; "
     "snnTorch registers (θ, β). Resumed, each β and θ takes up its own AdamW state, by name")
    import snntorch as snn
    from spiking_sae.config import TrainConfig
    from spiking_sae.runs import resume_run

    path = ROOT / 'tests' / 'data' / 'pre-constructor-run' / 'checkpoint.pt'
    old = torch.load(path, weights_only=True)
    assert 'learn_beta' not in old['model_config'] and len(old['optimizer']['param_groups']) == 2  # from before
    cfg = TrainConfig(**{**old['train_config'], 'channels': tuple(old['train_config']['channels']), 'epochs': 2})
    run = resume_run(path, cfg, old['data'], device='cpu').run
    hidden = [m for m in run.model.modules() if isinstance(m, snn.Leaky) and m is not run.model.decoder.out_lif]
    ids = old['optimizer']['param_groups'][1]['params']  # β₁, θ₁, β₂, θ₂ ... as that optimiser listed them
    saved = [old['optimizer']['state'][i]['exp_avg_sq'] for i in ids]
    mine = [run.opt.state[p]['exp_avg_sq'] for m in hidden for p in (m.beta, m.threshold)]
    assert len(saved) == len(mine) == 2 * len(hidden)
    assert all(torch.equal(a, b) for a, b in zip(saved, mine))
    assert len({float(v) for v in saved}) == len(saved)  # all different: a swap would show
