__version__ = "0.1.0"

def __getattr__(name): # `spiking_sae.pretrained("fashion-mnist")`: a trained model in one call
    "Names imported when first used, so that importing the package, or any of its modules, loads nothing more"
    if name == 'pretrained':
        from .engines import pretrained
        return pretrained
    raise AttributeError(f"module 'spiking_sae' has no attribute {name!r}")
