"""Schemas of what a DLEMLR weights file carries: the network config and the JSON record.

Nothing read from a weights file reaches a constructor before `validate_config` has checked
it: known keys only, each of its type and within its range. Inference settings (``refine``,
``device``, ...) are not stored with weights and a file declaring one is refused; the input's
``n_iter_phys`` is bounded and only a default for a caller who does not give one. Every
error is a `ValueError` naming the file and the key.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

#: Version of the network input (`laplace_inv.dlemlr.features`) stored with saved weights;
#: weights trained on another input are refused (fine-tuning may start from them).
#: 3: ADMM penalty ``ρ/α = 3000``; 2: non-negative Tikhonov channels by ADMM at
#: noise-adapted weights, ``ρ/α = 300``; 1, unversioned: FISTA + closed-form Tikhonov.
INPUT_VERSION = 3

#: Experiment families and their kernel kinds (axis 1, axis 2).
FAMILIES: dict[str, tuple[str, str]] = {
    "T1_IR-T2": ("T1_IR", "T2"),
    "T1_SR-T2": ("T1_SR", "T2"),
    "T2-T2": ("T2", "T2"),
    "D-T2": ("D", "T2"),
}

#: Value of ``weights`` that selects the shipped model of the kernel's family.
PRETRAINED = "pretrained"

#: Stem of the weights file of the universal model (trained on every family).
UNIVERSAL = "all"

#: Network-defining config keys: integer ranges (inclusive).
ARCH_RANGES: dict[str, tuple[int, int]] = {
    "dim": (1, 4096),
    "depth": (1, 64),
    "heads": (1, 64),
    "patch": (1, 256),
    "mlp_ratio": (1, 64),
}

#: Largest ``n_iter_phys`` (ADMM iterations of the input channels) a file may declare.
MAX_N_ITER = 1000

#: Config keys describing the network input: integer ranges.
INPUT_RANGES: dict[str, tuple[int, int]] = {
    "n_iter_phys": (1, MAX_N_ITER),
    "input_version": (1, 99),
}

#: Training-loss weights recorded with the weights: float ranges.
LOSS_RANGES: dict[str, tuple[float, float]] = {
    "w_data": (0.0, 1e6),
    "w_phys": (0.0, 1e6),
    "w_mass": (0.0, 1e6),
}

#: Largest output grid side a config may declare.
MAX_GRID = 4096

_HEX = "0123456789abcdef"

#: Keys a JSON record may hold, with their JSON types.
RECORD_TYPES: dict[str, type | tuple[type, ...]] = {
    "family": str,
    "families": list,
    "config": dict,
    "n_parameters": int,
    "training": dict,
    "validation": dict,
    "command": str,
    "sha256": str,
    "status": str,
    "recipe": str,
}


def parse_json(text: str | bytes, where: str) -> Any:
    """``json.loads`` with a `ValueError` naming ``where``; deep nesting is refused too.

    Parameters
    ----------
    text : str or bytes
        The JSON text.
    where : str
        What to name in the error (a file, or a file and a field).

    Returns
    -------
    object
        The parsed value.

    Examples
    --------
    >>> parse_json('{"a": 1}', "x.json")
    {'a': 1}
    """
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"{where}: not valid JSON ({exc})") from None


def _integer(value: Any, where: str, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: config key {key!r} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{where}: config key {key!r} must lie in [{low}, {high}], got {value}")
    return value


def _number(value: Any, where: str, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: config key {key!r} must be a number, got {value!r}")
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{where}: config key {key!r} must lie in [{low}, {high}], got {value}")
    return float(value)


def _grid(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{where}: config key 'grid' must be a list of two integers")
    return [_integer(v, where, "grid", 1, MAX_GRID) for v in value]


def validate_config(cfg: Any, where: str | Path) -> dict[str, Any]:
    """Check a stored network config against the schema and return a clean copy.

    Parameters
    ----------
    cfg : object
        The parsed config (must be a dict).
    where : str or Path
        The file it came from (for the error messages).

    Returns
    -------
    dict
        The architecture keys, ``grid``, ``input_version`` (1 when absent), ``n_iter_phys``
        when present, the loss weights and ``physics_target`` when present.

    Raises
    ------
    ValueError
        For a non-dict, an unknown key, a missing architecture key, a wrong type or a value
        out of range.

    Examples
    --------
    >>> cfg = {"dim": 64, "depth": 4, "heads": 2, "patch": 8, "mlp_ratio": 4, "grid": [64, 64]}
    >>> validate_config(cfg, "w.safetensors")["input_version"]
    1
    >>> validate_config({**cfg, "refine": True}, "w")
    Traceback (most recent call last):
    ...
    ValueError: w: unknown config key 'refine' (inference settings are not stored with weights)
    """
    where = str(where)
    if not isinstance(cfg, dict):
        raise ValueError(f"{where}: the stored config must be a JSON object, got {cfg!r:.60}")
    known = {*ARCH_RANGES, *INPUT_RANGES, *LOSS_RANGES, "grid", "physics_target"}
    for key in cfg:
        if key not in known:
            raise ValueError(
                f"{where}: unknown config key {key!r} (inference settings are not stored "
                "with weights)"
            )
    out: dict[str, Any] = {}
    for key, (low, high) in ARCH_RANGES.items():
        if key not in cfg:
            raise ValueError(f"{where}: the config lacks the key {key!r}")
        out[key] = _integer(cfg[key], where, key, low, high)
    if "grid" not in cfg:
        raise ValueError(f"{where}: the config lacks the key 'grid'")
    out["grid"] = _grid(cfg["grid"], where)
    out["input_version"] = _integer(cfg.get("input_version", 1), where, "input_version", 1, 99)
    if "n_iter_phys" in cfg:
        out["n_iter_phys"] = _integer(cfg["n_iter_phys"], where, "n_iter_phys", 1, MAX_N_ITER)
    for key, (lo, hi) in LOSS_RANGES.items():
        if key in cfg:
            out[key] = _number(cfg[key], where, key, lo, hi)
    if "physics_target" in cfg:
        if cfg["physics_target"] not in ("clean", "noisy"):
            raise ValueError(
                f"{where}: config key 'physics_target' must be 'clean' or 'noisy', "
                f"got {cfg['physics_target']!r}"
            )
        out["physics_target"] = cfg["physics_target"]
    if out["dim"] % out["heads"]:
        raise ValueError(f"{where}: config 'dim' ({out['dim']}) must be a multiple of 'heads'")
    if any(g % out["patch"] for g in out["grid"]):
        raise ValueError(f"{where}: config 'grid' {out['grid']} must be a multiple of 'patch'")
    return out


def validate_record(record: Any, where: str | Path) -> dict[str, Any]:
    """Check a JSON weights record (``<family>.json``) and return it.

    Parameters
    ----------
    record : object
        The parsed record.
    where : str or Path
        The record's file (for the error messages).

    Returns
    -------
    dict
        The record, its ``config`` validated by `validate_config`.

    Raises
    ------
    ValueError
        For an unknown key, a wrong type, a malformed SHA-256 or family list.

    Examples
    --------
    >>> validate_record({"sha256": "0" * 64, "families": ["T2-T2"]}, "r.json")["families"]
    ['T2-T2']
    >>> validate_record({"sha256": "0" * 64, "refine": True}, "r.json")
    Traceback (most recent call last):
    ...
    ValueError: r.json: unknown record key 'refine'
    """
    where = str(where)
    if not isinstance(record, dict):
        raise ValueError(f"{where}: the record must be a JSON object")
    digest = record.get("sha256")
    if not isinstance(digest, str) or len(digest) != 64 or digest.strip(_HEX):
        raise ValueError(
            f"{where}: record key 'sha256' must hold the SHA-256 of the weights file "
            f"(64 lower-case hex digits), got {digest!r:.20}"
        )
    for key, value in record.items():
        if key not in RECORD_TYPES:
            raise ValueError(f"{where}: unknown record key {key!r}")
        expected = RECORD_TYPES[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            name = expected.__name__ if isinstance(expected, type) else str(expected)
            raise ValueError(
                f"{where}: record key {key!r} must be of type {name}, got {type(value).__name__}"
            )
    families = record.get("families", [])
    if any(f not in FAMILIES for f in families):
        raise ValueError(
            f"{where}: record key 'families' lists unknown families {families!r}; "
            f"expected some of {sorted(FAMILIES)}"
        )
    recipe = record.get("recipe")
    if recipe is not None and (Path(recipe).name != recipe or not recipe.endswith(".toml")):
        raise ValueError(f"{where}: record key 'recipe' must be a bare *.toml file name")
    if "config" in record:
        record = {**record, "config": validate_config(record["config"], f"{where} (config)")}
    return record
