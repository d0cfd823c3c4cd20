__version__ = "0.1.0"

from .zoo import pretrained # `spiking_sae.pretrained("fashion-mnist")`: a trained model in one call
