"""DLEMLR: a physics-informed vision transformer for 2D Laplace NMR inversion.

``DLEMLRInverter`` (scikit-learn estimator through skorch) with the dual loss, output-grid
features that make one model serve any acquisition layout, shipped pretrained weights of one
universal model for the four experiment families (``weights/all.safetensors``) and the
training command (:func:`train.train_main`).
"""

from laplace_inv.dlemlr.estimator import DLEMLRInverter, DLEMLRNeuralNet
from laplace_inv.dlemlr.network import DLEMLRNet, Projector, Tokenizer, TransformerEncoder

__all__ = [
    "DLEMLRInverter",
    "DLEMLRNet",
    "DLEMLRNeuralNet",
    "Projector",
    "Tokenizer",
    "TransformerEncoder",
]
