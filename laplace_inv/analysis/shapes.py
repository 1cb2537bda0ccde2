"""The region shapes: `Box`, `Polygon` and `Cutoff` (SI units, validated on construction).

Axis 1 is a map's rows (T1, D or the first T2), axis 2 its columns (T2); a 1D distribution has
axis 1 only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import numpy as np

__all__ = ["SIDES", "Box", "Cutoff", "Polygon", "Region"]


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a region name must be a non-empty string, got {name!r}")


def _check_positive(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number, got {value!r}")
    val = float(value)
    if not np.isfinite(val) or val <= 0:
        raise ValueError(f"{what} must be a positive finite value in SI units, got {value!r}")
    return val


def _check_range(value: Any, what: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{what} must be a pair (low, high), got {value!r}")
    low = _check_positive(value[0], f"{what} low")
    high = _check_positive(value[1], f"{what} high")
    if not low < high:
        raise ValueError(f"{what} needs low < high, got ({low:g}, {high:g}); swap the two values")
    return (low, high)


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in (axis 1, axis 2); a band along axis 1 in 1D.

    Attributes
    ----------
    name : str
        Label used in tables and figures.
    x1 : tuple of float
        ``(low, high)`` along axis 1, SI units.
    x2 : tuple of float or None
        ``(low, high)`` along axis 2, SI units; None for a 1D distribution (or, on a 2D map,
        the whole of axis 2).

    Examples
    --------
    >>> Box("water", (0.05, 0.3), (0.005, 0.05)).x2
    (0.005, 0.05)
    """

    name: str
    x1: tuple[float, float]
    x2: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        object.__setattr__(self, "x1", _check_range(self.x1, f"box {self.name!r} x1"))
        if self.x2 is not None:
            object.__setattr__(self, "x2", _check_range(self.x2, f"box {self.name!r} x2"))


@dataclass(frozen=True)
class Polygon:
    """A polygon on a 2D map; its edges are straight lines in log10 space.

    Attributes
    ----------
    name : str
        Label used in tables and figures.
    vertices : tuple of (float, float)
        At least 3 ``(x1, x2)`` vertices in SI units, in order around the polygon (closed
        automatically).

    Examples
    --------
    >>> len(Polygon("gel", [(1e-3, 1e-4), (1e-2, 1e-4), (1e-2, 1e-3)]).vertices)
    3
    """

    name: str
    vertices: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        _check_name(self.name)
        verts = self.vertices
        if isinstance(verts, (str, bytes)) or not hasattr(verts, "__len__") or len(verts) < 3:
            raise ValueError(
                f"polygon {self.name!r} needs at least 3 vertices [x1, x2], got {verts!r}"
            )
        clean = []
        for k, v in enumerate(verts):
            if isinstance(v, (str, bytes)) or not hasattr(v, "__len__") or len(v) != 2:
                raise ValueError(f"polygon {self.name!r} vertex {k} must be [x1, x2], got {v!r}")
            what = f"polygon {self.name!r} vertex {k}"
            clean.append((_check_positive(v[0], what), _check_positive(v[1], what)))
        object.__setattr__(self, "vertices", tuple(clean))


SIDES = ("below", "above")


@dataclass(frozen=True)
class Cutoff:
    """Everything below (or above) a value along one axis, e.g. a T2 cut-off.

    Attributes
    ----------
    name : str
        Label used in tables and figures.
    axis : int
        1 or 2.
    value : float
        The cut-off in SI units. A pixel centre exactly at the value counts as below.
    side : {"below", "above"}
        Which side the region covers.

    Examples
    --------
    >>> Cutoff("bound fluid", axis=2, value=0.033, side="below").side
    'below'
    """

    name: str
    axis: int
    value: float
    side: str

    def __post_init__(self) -> None:
        _check_name(self.name)
        if isinstance(self.axis, bool) or self.axis not in (1, 2):
            raise ValueError(f"cutoff {self.name!r}: axis must be 1 or 2, got {self.axis!r}")
        object.__setattr__(self, "axis", int(self.axis))
        value = _check_positive(self.value, f"cutoff {self.name!r} value")
        object.__setattr__(self, "value", value)
        if self.side not in SIDES:
            raise ValueError(
                f"cutoff {self.name!r}: side must be 'below' or 'above', got {self.side!r}"
            )


Region = Union[Box, Polygon, Cutoff]  # noqa: UP007 (a runtime alias for isinstance users)
