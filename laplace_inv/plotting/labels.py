"""Peak labels that never overlap or leave the map: beside the peak, or listed below.

Each label is tried at several offsets around its peak; a placement is kept only if its box
lies inside the map, clear of every other label and peak marker. When any label finds no
place, every peak gets a number on the map and the labels are listed under the map instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patheffects import withStroke

from laplace_inv.plotting._style import FONT_SIZE, REF_COLOUR, fmt, symbol_unit
from laplace_inv.plotting.layout import main_size_points

_OFFSETS = [(dx, dy) for r in (10, 24, 40) for dx, dy in ((r, r), (r, -r), (-r, r), (-r, -r))]
_NUMBER_OFFSETS = [(dx, dy) for r in (4, 10, 16) for dx, dy in ((r, r), (r, -r), (-r, r), (-r, -r))]
_LEADER = {"arrowstyle": "-", "lw": 0.6, "color": "0.25", "shrinkA": 0, "shrinkB": 2}


def peak_text(peak: object, kinds: Sequence[str], units: str, f1: float, f2: float) -> str:
    """``T1 112 ms / T2 19.5 ms, 85 %`` style label of one peak."""
    (s1, u1), (s2, u2) = symbol_unit(kinds, units)
    pos = peak.position  # type: ignore[attr-defined]
    text = f"{s1} {fmt(pos[0] * f1)} {u1}\n{s2} {fmt(pos[1] * f2)} {u2}"
    frac = getattr(peak, "fraction", float("nan"))
    if np.isfinite(frac):
        text += f"\n{100 * frac:.0f}%"
    return text


def _box(x: float, y: float, dx: float, dy: float, size: tuple[float, float]) -> tuple:
    w, h = size
    left = x + dx if dx > 0 else x + dx - w
    bottom = y + dy if dy > 0 else y + dy - h
    return (left, bottom, left + w, bottom + h)


def _overlaps(a: tuple, b: tuple, pad: float = 2.0) -> bool:
    return not (
        a[2] + pad <= b[0] or b[2] + pad <= a[0] or a[3] + pad <= b[1] or b[3] + pad <= a[1]
    )


def _leader_clear(x: float, y: float, box: tuple, placed: list[tuple]) -> bool:
    """Whether the leader line from the peak to the label's nearest corner misses the others."""
    cx = box[0] if abs(box[0] - x) < abs(box[2] - x) else box[2]
    cy = box[1] if abs(box[1] - y) < abs(box[3] - y) else box[3]
    for t in (0.25, 0.5, 0.75):
        px, py = x + t * (cx - x), y + t * (cy - y)
        if any(o[0] <= px <= o[2] and o[1] <= py <= o[3] for o in placed):
            return False
    return True


def _text_size(text: str, fontsize: float) -> tuple[float, float]:
    lines = text.split("\n")
    return (0.62 * fontsize * max(len(s) for s in lines) + 6.0, 1.25 * fontsize * len(lines) + 4.0)


def place(
    points: np.ndarray,
    texts: list[str],
    area: tuple[float, float],
    fontsize: float,
    offsets: list[tuple[int, int]] | None = None,
):
    """Offsets (points) for each label, or None when they cannot all fit inside ``area``.

    Examples
    --------
    >>> place(np.array([[50.0, 50.0]]), ["a"], (200.0, 200.0), 8.0)
    [(10, 10)]
    >>> place(np.array([[5.0, 5.0]]), ["x" * 80], (100.0, 100.0), 8.0) is None
    True
    """
    W, H = area
    placed: list[tuple] = []
    markers = [(x - 4, y - 4, x + 4, y + 4) for x, y in points]
    offsets = []
    for (x, y), text in zip(points, texts, strict=True):
        size = _text_size(text, fontsize)
        for dx, dy in offsets or _OFFSETS:
            box = _box(x, y, dx, dy, size)
            inside = box[0] >= 0 and box[1] >= 0 and box[2] <= W and box[3] <= H
            blocked = placed + markers
            if (
                inside
                and not any(_overlaps(box, o) for o in blocked)
                and _leader_clear(x, y, box, placed)
            ):
                placed.append(box)
                offsets.append((dx, dy))
                break
        else:
            return None
    return offsets


def _to_points(ax: Axes, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Data → points from the map's lower-left corner (log axes, limits already set)."""
    W, H = main_size_points(ax)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    px = (np.log10(x) - np.log10(x0)) / (np.log10(x1) - np.log10(x0)) * W
    py = (np.log10(y) - np.log10(y0)) / (np.log10(y1) - np.log10(y0)) * H
    return np.column_stack([px, py])


def label_peaks(
    ax: Axes,
    peaks: Sequence[object],
    kinds: Sequence[str],
    units: str,
    f1: float,
    f2: float,
    max_inside: int = 4,
) -> str:
    """Mark and label ``peaks`` on the map ``ax``; returns the text listed under the map.

    The return value is empty when every label fits beside its peak.
    """
    if not peaks:
        return ""
    x = np.array([p.position[1] * f2 for p in peaks])  # type: ignore[attr-defined]
    y = np.array([p.position[0] * f1 for p in peaks])  # type: ignore[attr-defined]
    texts = [peak_text(p, kinds, units, f1, f2) for p in peaks]
    ax.plot(x, y, marker="+", ms=6, mew=1.0, color=REF_COLOUR, ls="none", zorder=5)
    offsets = None
    if len(peaks) <= max_inside:
        offsets = place(_to_points(ax, x, y), texts, main_size_points(ax), FONT_SIZE - 1)
    if offsets is not None:
        for xi, yi, text, (dx, dy) in zip(x, y, texts, offsets, strict=True):
            ax.annotate(
                text,
                (xi, yi),
                xytext=(dx, dy),
                textcoords="offset points",
                ha="left" if dx > 0 else "right",
                va="bottom" if dy > 0 else "top",
                fontsize=FONT_SIZE - 1,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.85, "lw": 0.3},
                arrowprops=_LEADER if abs(dx) > 10 else None,
                zorder=6,
            )
        return ""
    lines = []
    numbers = [str(i) for i in range(1, len(peaks) + 1)]
    spots = place(
        _to_points(ax, x, y), numbers, main_size_points(ax), FONT_SIZE - 1, _NUMBER_OFFSETS
    )
    spots = spots or [(4, 4)] * len(numbers)
    for i, (xi, yi, text, (dx, dy)) in enumerate(zip(x, y, texts, spots, strict=True), start=1):
        ax.annotate(
            str(i),
            (xi, yi),
            xytext=(dx, dy),
            ha="left" if dx > 0 else "right",
            va="bottom" if dy > 0 else "top",
            arrowprops=_LEADER if abs(dx) > 4 else None,
            textcoords="offset points",
            fontsize=FONT_SIZE - 1,
            color=REF_COLOUR,
            fontweight="bold",
            path_effects=[withStroke(linewidth=2.0, foreground="white")],
            zorder=6,
        )
        lines.append(f"{i}: " + text.replace("\n", ", "))
    return "\n".join(lines)
