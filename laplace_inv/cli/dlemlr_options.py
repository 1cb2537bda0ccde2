"""``laplace-inv invert`` options of the DLEMLR estimator (``--refine/--no-refine``, ...).

`add_arguments` registers them on the ``invert`` parser; `method_params` hands them to every
place that builds a DLEMLR estimator (the inversion and, with ``--uncertainty``, the
bootstrap).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

log = logging.getLogger("laplace_inv")

#: Option destinations and the `DLEMLRInverter` parameter each sets.
PARAMS = {
    "dlemlr_refine": "refine",
    "dlemlr_refine_steps": "refine_steps",
    "dlemlr_device": "device",
    "dlemlr_batch_size": "batch_size",
    "dlemlr_smoothing": "smoothing",
}


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the DLEMLR options on ``parser`` (one argument group).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The ``invert`` parser.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_arguments(p)
    >>> estimator_params(p.parse_args(["--no-refine", "--batch-size", "256"]))
    {'refine': False, 'batch_size': 256}
    """
    group = parser.add_argument_group(
        "DLEMLR options", "settings of --method dlemlr (the shipped network)"
    )
    group.add_argument(
        "--refine",
        dest="dlemlr_refine",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fit each map to its data down to the noise level, near the network's map "
        "(default); --no-refine returns the raw network output (faster, but it may explain "
        "measured data only to several noise levels)",
    )
    group.add_argument(
        "--refine-steps",
        dest="dlemlr_refine_steps",
        type=_non_negative_int,
        default=None,
        metavar="N",
        help="cap on the data-consistency iterations per map (default 200)",
    )
    group.add_argument(
        "--device",
        dest="dlemlr_device",
        default=None,
        help="torch device: cpu (default), cuda, cuda:1, ...",
    )
    group.add_argument(
        "--smoothing",
        dest="dlemlr_smoothing",
        type=_non_negative_float,
        default=None,
        metavar="DECADES",
        help="parsimony: also fit from the network's map blurred by this many decades and keep "
        "that map unless the data reject it (0.1 merges splits of broad components the data "
        "do not require; twice the data-consistency cost; default 0: off)",
    )
    group.add_argument(
        "--batch-size",
        dest="dlemlr_batch_size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="maps processed at once on the device (default 64)",
    )


def estimator_params(args: argparse.Namespace) -> dict[str, Any]:
    """The `DLEMLRInverter` parameters the command line sets (absent options left out).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``invert`` arguments.

    Returns
    -------
    dict
        Parameter name to value.

    Examples
    --------
    >>> estimator_params(argparse.Namespace(dlemlr_refine_steps=50))
    {'refine_steps': 50}
    """
    return {
        param: getattr(args, dest)
        for dest, param in PARAMS.items()
        if getattr(args, dest, None) is not None
    }


def method_params(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Per method name, the estimator parameters the command line sets (for `make_inverter`).

    Every place of the command that builds a method by name (the inversion and, with
    ``--uncertainty``, the bootstrap) passes these, so the options reach each DLEMLR
    estimator of the command. Options given without ``--method dlemlr`` are reported.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``invert`` arguments.

    Returns
    -------
    dict
        ``{"dlemlr": {...}}`` when a DLEMLR option is set, else empty.

    Examples
    --------
    >>> method_params(argparse.Namespace(dlemlr_refine=False, methods=["dlemlr"]))
    {'dlemlr': {'refine': False}}
    >>> method_params(argparse.Namespace(methods=["upen"]))
    {}
    """
    params = estimator_params(args)
    if not params:
        return {}
    if "dlemlr" not in getattr(args, "methods", ["dlemlr"]):
        log.warning("the DLEMLR options (%s) apply to --method dlemlr only", ", ".join(params))
    return {"dlemlr": params}
