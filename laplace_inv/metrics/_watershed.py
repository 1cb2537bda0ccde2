"""Watershed segmentation of a map into peaks (steepest ascent, small basins merged)."""

from __future__ import annotations

import heapq

import numpy as np
from scipy import ndimage

_NEIGHBOURS: tuple[tuple[int, int], ...] = tuple(
    (di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1) if (di, dj) != (0, 0)
)
_STRUCTURE = np.ones((3, 3), dtype=bool)


def _basins(G: np.ndarray) -> np.ndarray:
    """Steepest-ascent (watershed) labelling of the positive bins of ``G``.

    Every positive bin follows its highest 8-neighbour uphill until it reaches a maximum.
    Plateaus that are maxima (no neighbour at least as high) form one basin; bins of a
    "shoulder" plateau flow across it towards its exit. Returns an int array of basin labels
    (the flat index of the basin's representative maximum), -1 for non-positive bins.
    """
    n1, n2 = G.shape
    size = n1 * n2
    active = G > 0
    pad = np.pad(G, 1, constant_values=-np.inf)
    stack = np.stack([pad[1 + di : 1 + di + n1, 1 + dj : 1 + dj + n2] for di, dj in _NEIGHBOURS])
    k = np.argmax(stack, axis=0)
    best = np.take_along_axis(stack, k[None], axis=0)[0]
    off = np.array(_NEIGHBOURS)
    ii, jj = np.indices(G.shape)
    target = (ii + off[k, 0]) * n2 + (jj + off[k, 1])
    parent = np.where(active & (best > G), target, -1).ravel()

    flat_G = G.ravel()
    maxima = active & (parent.reshape(G.shape) < 0)
    lab, n_lab = ndimage.label(maxima, structure=_STRUCTURE)
    # A component of ``maxima`` has one value; it is a shoulder (not a maximum) when a bin of
    # equal value that is not itself a maximum touches it.
    lab_pad = np.pad(lab, 1)
    G_pad = np.pad(G, 1, constant_values=-np.inf)
    touch = np.zeros(G.shape, dtype=bool)
    for di, dj in _NEIGHBOURS:
        sl = (slice(1 + di, 1 + di + n1), slice(1 + dj, 1 + dj + n2))
        touch |= (G_pad[sl] >= G) & (lab_pad[sl] == 0)
    shoulder = np.bincount(lab[maxima & touch], minlength=n_lab + 1).astype(bool)
    comp_idx = ndimage.value_indices(lab, ignore_value=0)
    for c, where in comp_idx.items():
        idx = np.ravel_multi_index(where, G.shape)
        if not shoulder[c]:
            parent[idx] = idx.min()  # a true maximum (or maximal plateau): one basin
            continue
        value = flat_G[idx[0]]
        # shoulder plateau: flow through equal-valued bins towards an already resolved bin
        pending = set(idx.tolist())
        while pending:
            progress = False
            for b in sorted(pending):
                i, j = divmod(b, n2)
                for di, dj in _NEIGHBOURS:
                    a, c2 = i + di, j + dj
                    if 0 <= a < n1 and 0 <= c2 < n2:
                        nb = a * n2 + c2
                        if nb not in pending and flat_G[nb] >= value and parent[nb] >= 0:
                            parent[b] = nb
                            pending.discard(b)
                            progress = True
                            break
            if not progress:  # cannot happen for a shoulder, but never loop forever
                for b in pending:
                    parent[b] = b
                break

    flat_active = active.ravel()
    p = np.where(flat_active & (parent >= 0), parent, np.arange(size))
    while True:  # pointer jumping: every bin to the root of its chain
        q = p[p]
        if np.array_equal(q, p):
            break
        p = q
    return np.where(flat_active, p, -1).reshape(G.shape)


def _saddles(labels: np.ndarray, G: np.ndarray) -> dict[tuple[int, int], float]:
    """Highest pass ``min(G[a], G[b])`` between each pair of adjacent basins."""
    n1, n2 = labels.shape
    lp = np.pad(labels, 1, constant_values=-1)
    gp = np.pad(G, 1)
    keys_a, keys_b, passes = [], [], []
    for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
        lb = lp[1 + di : 1 + di + n1, 1 + dj : 1 + dj + n2]
        gb = gp[1 + di : 1 + di + n1, 1 + dj : 1 + dj + n2]
        mask = (labels >= 0) & (lb >= 0) & (labels != lb)
        keys_a.append(np.minimum(labels, lb)[mask])
        keys_b.append(np.maximum(labels, lb)[mask])
        passes.append(np.minimum(G, gb)[mask])
    ka, kb, sv = np.concatenate(keys_a), np.concatenate(keys_b), np.concatenate(passes)
    if ka.size == 0:
        return {}
    pairs, inverse = np.unique(np.stack([ka, kb], axis=1), axis=0, return_inverse=True)
    best = np.full(len(pairs), -np.inf)
    np.maximum.at(best, inverse.ravel(), sv)
    return {(int(x), int(y)): float(v) for (x, y), v in zip(pairs, best, strict=True)}


def _segment(
    Fc: np.ndarray, G: np.ndarray, min_fraction: float
) -> tuple[np.ndarray, list[int], float]:
    """Watershed basins of ``G`` with small basins merged into their highest-pass neighbour."""
    labels = _basins(G)
    total = float(Fc.sum())
    pos = labels >= 0
    uniq, inverse = np.unique(labels[pos], return_inverse=True)
    ids = [int(v) for v in uniq]
    mass = dict(zip(ids, np.bincount(inverse, weights=Fc[pos]).tolist(), strict=True))
    saddles = _saddles(labels, G)
    neighbours: dict[int, dict[int, float]] = {i: {} for i in ids}
    for (a, b), s in saddles.items():
        neighbours[a][b] = s
        neighbours[b][a] = s
    owner = {i: i for i in ids}
    alive = set(ids)
    heap = [(m, i) for i, m in mass.items()]
    heapq.heapify(heap)
    while heap:
        m_small, small = heapq.heappop(heap)
        if small not in alive or m_small != mass[small]:
            continue  # stale entry
        if mass[small] > 0 and mass[small] / total >= min_fraction:
            break
        alive.discard(small)
        nbrs = {n: s for n, s in neighbours.pop(small).items() if n in alive}
        if nbrs:
            into = max(nbrs, key=lambda n: (nbrs[n], mass[n]))
            mass[into] += mass[small]
            heapq.heappush(heap, (mass[into], into))
            owner[small] = into
            for n, s in nbrs.items():
                if n == into:
                    continue
                if s > neighbours[into].get(n, -np.inf):
                    neighbours[into][n] = s
                    neighbours[n][into] = s
        else:
            owner[small] = -1  # isolated and too small: dropped
        for n in nbrs:
            neighbours[n].pop(small, None)

    def root(i: int) -> int:
        while i >= 0 and owner[i] != i:
            i = owner[i]
        return i

    lut = np.array([root(i) for i in ids], dtype=labels.dtype)
    merged = np.full_like(labels, -1)
    merged[pos] = lut[inverse]
    return merged, sorted(alive), total
