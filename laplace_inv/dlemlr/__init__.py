"""DLEMLR: a physics-informed vision transformer for 2D Laplace NMR inversion.

`DLEMLRInverter` (a scikit-learn estimator, trained through skorch) with the dual loss and
output-grid features that make one model serve any acquisition layout. The package's parts:
`estimator` (parameters, fit, predict), `net` (the skorch net, callbacks, training loop),
`inference` (input channels, network and data consistency on one device), `consistency`
(the data-consistency step: a λ path stopped per map at the noise level), `grid_transfer`
(the network's 64 × 64 map onto any requested grid, mass kept), `persistence` and `record`
(weights files, their schema, the shipped models), `compressed` (the compressed problem, the
only reader of `Kernel2D.compress`), `features`/`admm` (the network input), `simulation`,
`recipe` and `train` (``laplace-inv train``).
"""

from laplace_inv.dlemlr.estimator import DLEMLRInverter
from laplace_inv.dlemlr.net import DLEMLRNeuralNet
from laplace_inv.dlemlr.network import DLEMLRNet, Projector, Tokenizer, TransformerEncoder

__all__ = [
    "DLEMLRInverter",
    "DLEMLRNet",
    "DLEMLRNeuralNet",
    "Projector",
    "Tokenizer",
    "TransformerEncoder",
]
