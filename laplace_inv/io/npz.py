"""NumPy ``.npz`` acquisitions (``data``, ``tau1``, ``tau2``, ``kinds``) and safe member loading."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from laplace_inv.io._common import as_kinds, check_shapes, numeric
from laplace_inv.io.acquisition import Acquisition

PathLike = str | os.PathLike

MAX_MEMBER_BYTES = 4 * 1024**3
"""Largest uncompressed ``.npz`` member a reader loads (4 GiB)."""


def _pickle_error(path: Path) -> ValueError:
    return ValueError(
        f"{path}: holds object arrays (pickles), which are refused for safety; store "
        "plain numeric/string arrays"
    )


def load_npz_members(path: Path, wanted: Iterable[str]) -> tuple[dict[str, np.ndarray], list]:
    """Load only the members ``wanted`` of an ``.npz`` (others are never decompressed).

    Parameters
    ----------
    path : pathlib.Path
        The ``.npz`` file.
    wanted : iterable of str
        Member names (without ``.npy``) to load when present.

    Returns
    -------
    contents : dict
        The wanted members found in the file.
    names : list of str
        Every member name in the file.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: .npz file not found")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":  # np.load would call anything else "pickled data"
        raise ValueError(
            f"{path}: not a readable .npz file (not a zip archive: truncated, or another format)"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            sizes = {i.filename: i.file_size for i in zf.infolist()}
        with np.load(path, allow_pickle=False) as npz:
            names = list(npz.files)
            out = {}
            for key in wanted:
                if key not in names:
                    continue
                size = sizes.get(key + ".npy", sizes.get(key, 0))
                if size > MAX_MEMBER_BYTES:
                    raise ValueError(
                        f"{path}: member {key!r} is {size} bytes uncompressed, more than the "
                        f"{MAX_MEMBER_BYTES} a reader loads"
                    )
                out[key] = npz[key]
            return out, names
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise _pickle_error(path) from None
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
    except Exception as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None


_ACQ_KEYS = ("data", "tau1", "tau2", "kinds", "noise_std")


def _noise(contents: dict, path: Path) -> float | None:
    if "noise_std" not in contents:
        return None
    nv = numeric(contents["noise_std"], path, "noise_std").ravel()
    if nv.size != 1:
        raise ValueError(f"{path}: noise_std must be a scalar")
    return float(nv[0])


def read_npz(path: PathLike) -> Acquisition:
    """Read an acquisition from a ``.npz`` file.

    Keys: ``data`` (n1, n2), ``tau1`` (n1, SI), ``tau2`` (n2, SI), ``kinds`` (two strings)
    and optionally ``noise_std`` (scalar). A 1D decay has ``data`` (n,), ``tau1`` (n,), one
    kind and no ``tau2``. Only these members are decompressed; pickled object arrays are
    refused.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.

    Returns
    -------
    Acquisition

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
    >>> np.savez(p, data=np.ones((2, 2)), tau1=[0.1, 0.2], tau2=[0.01, 0.02],
    ...          kinds=["T2", "T2"], noise_std=0.01)
    >>> acq = read_npz(p)
    >>> acq.kinds, acq.noise_std
    (('T2', 'T2'), 0.01)
    """
    path = Path(path)
    contents, names = load_npz_members(path, _ACQ_KEYS)
    if "map" in names and "data" not in names:
        raise ValueError(
            f"{path}: this is a result file (a map), not an acquisition; use load_result_npz"
        )
    one_d = "tau2" not in names and "data" in contents and np.ndim(contents["data"]) == 1
    needed = ("data", "tau1", "kinds") if one_d else ("data", "tau1", "tau2", "kinds")
    missing = [k for k in needed if k not in names]
    if missing:
        raise ValueError(
            f"{path}: missing key(s) {missing}; an acquisition .npz needs data, tau1, tau2, "
            f"kinds (found {sorted(names)})"
        )
    kinds = as_kinds(contents["kinds"], path, 1 if one_d else 2)
    data = numeric(contents["data"], path, "data")
    tau1 = numeric(contents["tau1"], path, "tau1")
    if one_d:
        tau2 = None
        if tau1.ndim != 1 or tau1.size != data.size:
            raise ValueError(f"{path}: tau1 must be 1D with one value per data point")
    else:
        tau2 = numeric(contents["tau2"], path, "tau2")
        if data.ndim != 2:
            raise ValueError(f"{path}: data must be 2D (n1, n2), got shape {data.shape}")
        if tau1.ndim != 1 or tau2.ndim != 1:
            raise ValueError(f"{path}: tau1 and tau2 must be 1D")
        check_shapes(data, tau1, tau2, (f"{path} (data)", "tau1", "tau2"), "array")
    return Acquisition(
        data=data,
        tau1=tau1,
        tau2=tau2,
        kinds=kinds,
        noise_std=_noise(contents, path),
        metadata={"format": "npz"},
        source=str(path),
    )
