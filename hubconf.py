"""Entry points for `torch.hub`: `torch.hub.load('spiking-sae/spiking_sae', 'sae', pretrained='fashion-mnist')`
(GitHub), or `torch.hub.load('path/to/clone', 'sae', source='local', pretrained='mnist-sample')`.
Nothing here but calls into the package; the package itself must be importable (`pip install -e .` in a clone,
or `pip install git+https://github.com/spiking-sae/spiking_sae`), since torch.hub only puts the repository on
`sys.path`."""
dependencies = ['torch', 'torchvision', 'snntorch', 'safetensors']

def sae(pretrained:str|bool|None=None, # a shipped model (a key of `spiking_sae.io.PRETRAINED`), a `save_pretrained`
        # folder, or, as torchvision's entries take it, True: the default shipped model ('fashion-mnist'); False: none
        engine:str='fast', # 'fast' (`FastSAE`) or 'reference' (`SAE`): the same weights either way
        device='cpu', # 'cpu', 'cuda' ...; `None`: CUDA when present
        **config): # without `pretrained`: the arguments of `SAE` for a new, untrained model
    "A convolutional spiking autoencoder: trained (`pretrained=`), or new with `SAE`'s arguments"
    from spiking_sae.engines import engine as build
    from spiking_sae.io import from_pretrained
    from spiking_sae.precision import get_device
    pretrained = 'fashion-mnist' if pretrained is True else None if pretrained is False else pretrained
    if pretrained is None:
        return build(engine)(**config).to(get_device(device))
    if config:
        raise ValueError(f"a pretrained model brings its own config: drop {sorted(config)}")
    return from_pretrained(build(engine), pretrained, device)
