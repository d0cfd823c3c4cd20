"""Entry points for `torch.hub`: `torch.hub.load('spiking-sae/spiking_sae', 'sae', pretrained='fashion-mnist')`
(GitHub), or `torch.hub.load('path/to/clone', 'sae', source='local', pretrained='mnist-sample')`.
Nothing here but calls into the package; the package itself must be importable (`pip install -e .` in a clone, or
`pip install git+https://github.com/spiking-sae/spiking_sae`), since torch.hub only puts the repository on `sys.path`."""
dependencies = ['torch', 'torchvision', 'snntorch', 'safetensors']

def sae(pretrained:str|None=None, # a shipped model ('fashion-mnist', 'mnist-sample') or a `save_pretrained` folder
        engine:str='fast', # 'fast' (`FastSAE`) or 'reference' (`SAE`): the same weights either way
        device=None, # 'cpu', 'cuda' ...; `None`: CUDA when present
        **config): # without `pretrained`: the arguments of `SAE` for a new, untrained model
    "A convolutional spiking autoencoder: trained (`pretrained=`), or new with `SAE`'s arguments"
    from spiking_sae.fast import FastSAE
    from spiking_sae.model import SAE
    from spiking_sae.train import get_device
    if engine not in ('fast', 'reference'): raise ValueError(f"engine must be 'fast' or 'reference', got {engine!r}")
    cls = FastSAE if engine == 'fast' else SAE
    if pretrained is None: return cls(**config).to(get_device(device))
    if config: raise ValueError(f"a pretrained model brings its own config: drop {sorted(config)}")
    return cls.from_pretrained(pretrained, device)
