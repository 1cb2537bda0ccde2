"""Checks of DLEMLR estimator parameters and training sets, run once per ``fit``/``predict``.

Each bad value gives a `ValueError` (or `TypeError`) naming the parameter, the value and
what is accepted, before any work starts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from laplace_inv.dlemlr.parsimony import MAX_SMOOTHING
from laplace_inv.dlemlr.record import MAX_N_ITER

#: Integer parameters checked at inference: smallest value.
INFERENCE_INTEGERS = {"n_iter_phys": 1, "batch_size": 1, "refine_steps": 0}


#: Integer parameters checked for training: smallest value.
TRAINING_INTEGERS = {
    "max_epochs": 1,
    "warmup_steps": 0,
    "patience": 1,
    "dim": 1,
    "depth": 1,
    "heads": 1,
    "patch": 1,
    "mlp_ratio": 1,
}


def _integer(est: Any, name: str, low: int, high: int | None = None) -> int:
    value = getattr(est, name)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        upper = f" and at most {high}" if high is not None else ""
        raise ValueError(f"{name} must be at least {low}{upper}, got {value}")
    return int(value)


def _number(est: Any, name: str, low: float, *, strict: bool = False, allow_none: bool = False):
    value = getattr(est, name)
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < low or (strict and value == low):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {relation} {low:g}, got {value!r}")
    return value


def check_inference_params(est: Any) -> None:
    """Check the parameters that inference reads.

    Parameters
    ----------
    est : DLEMLRInverter
        The estimator.
    """
    for name, low in INFERENCE_INTEGERS.items():
        _integer(est, name, low, MAX_N_ITER if name == "n_iter_phys" else None)
    if not isinstance(est.refine, (bool, np.bool_)):
        raise TypeError(
            f"refine must be True (data consistency) or False (raw network output), "
            f"got {est.refine!r}"
        )
    smoothing = _number(est, "smoothing", 0.0)
    if smoothing > MAX_SMOOTHING:
        raise ValueError(
            f"smoothing must be at most {MAX_SMOOTHING} decades (wider blurs merge what the "
            f"data resolve), got {smoothing!r}; 0.1 is the tested value, 0 turns it off"
        )
    if est.n_jobs is not None and (
        isinstance(est.n_jobs, bool) or not isinstance(est.n_jobs, (int, np.integer))
    ):
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {est.n_jobs!r}")
    import torch

    try:
        torch.device(est.device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be a torch device such as 'cpu' or 'cuda:0', got {est.device!r}"
        ) from None


def check_training_params(est: Any) -> None:
    """Check the parameters that training reads.

    Parameters
    ----------
    est : DLEMLRInverter
        The estimator.
    """
    for name, low in TRAINING_INTEGERS.items():
        _integer(est, name, low)
    _number(est, "lr", 0.0)
    _number(est, "weight_decay", 0.0)
    for name in ("w_data", "w_phys", "w_mass"):
        _number(est, name, 0.0)
    _number(est, "time_limit", 0.0, strict=True, allow_none=True)
    fraction = est.valid_fraction
    if fraction is None:
        fraction = 0.0
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.number)):
        raise TypeError(f"valid_fraction must be a number in [0, 1), got {fraction!r}")
    if not 0.0 <= float(fraction) < 1.0:
        raise ValueError(
            f"valid_fraction must lie in [0, 1) (0: no validation, no early stopping), "
            f"got {fraction!r}"
        )
    if est.physics_target not in ("clean", "noisy"):
        raise ValueError(f"physics_target must be 'clean' or 'noisy', got {est.physics_target!r}")


def check_training_set(est: Any, data: Any) -> None:
    """Check a feature set before training: enough pairs, finite maps and features.

    Parameters
    ----------
    est : DLEMLRInverter
        The estimator (for ``valid_fraction``).
    data : FeatureSet
        The training pairs.
    """
    n = len(data)
    fraction = float(est.valid_fraction or 0.0)
    n_valid = math.ceil(n * fraction) if fraction else 0
    if n - n_valid < 1 or (fraction and n_valid < 1):
        raise ValueError(
            f"{n} training pairs are too few for valid_fraction={fraction:g}: training and "
            "validation need one pair each (give more pairs or valid_fraction=0)"
        )
    arrays = {"maps": data.maps, **data.samples}
    for name, arr in arrays.items():
        for start in range(0, len(arr), 4096):  # chunks: no full-size temporary
            part = np.asarray(arr[start : start + 4096])
            if not np.all(np.isfinite(part)):
                rows = ~np.isfinite(part.reshape(len(part), -1)).all(axis=1)
                bad = start + int(np.flatnonzero(rows)[0])
                what = "target map" if name == "maps" else f"feature {name!r} of pair"
                raise ValueError(f"training pairs must be finite; {what} {bad} holds NaN or inf")
