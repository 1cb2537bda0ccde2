"""Tutorial 5 (scikit-learn recipe): predict a cheese's ripening day from its T1-T2 decay.

An inverter is a scikit-learn transformer (``transform`` equals ``predict``), so it can feed a
downstream model in a :class:`~sklearn.pipeline.Pipeline`::

    decays ─▶ TikhonovInverter ─▶ MapFeatures ─▶ StandardScaler ─▶ LogisticRegression ─▶ day

The same classifier (``StandardScaler ─▶ LogisticRegression``) trained on the raw decays is
the baseline.

**Simulated ripening.** Cheese T1-T2 maps have three components: water
(T1 ≈ 320 ms, T2 ≈ 40 ms), protein-bound water (160 ms, 4 ms) and fat (100 ms, 70 ms). As the
curd ripens and dehydrates, the two water components move to shorter T1 and T2 while fat
stays put; :func:`laplace_inv.simulate.cheese_like` moves them by ``shift`` decades on both
axes. This recipe uses the day → shift mapping :data:`DAY_TO_SHIFT`:

======  =================
day     shift (decades)
======  =================
10      0.00
15      0.05
20      0.10
======  =================

i.e. 0.01 decade (2.3 %) shorter relaxation times per day of ripening. Each sample also gets
its own composition (Dirichlet weights around water 50 %, bound water 20 %, fat 30 %), a
sample-to-sample jitter of the shift (σ = 0.015 decade), a random overall amplitude (sample
mass, ×0.5–1.5) and white noise at SNR 300.

Figure: ``cheese_pipeline.png`` (mean T2 projection of the inverted maps per day, and the test
accuracy of both pipelines). The script prints both accuracies.

Run ``python tutorials/cheese_pipeline.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import warnings

import numpy as np
from _common import parse_args, save, t1t2_kernel
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from laplace_inv import Kernel2D, TikhonovInverter
from laplace_inv.simulate import cheese_like

DAY_TO_SHIFT: dict[int, float] = {10: 0.00, 15: 0.05, 20: 0.10}
"""Ripening day → shift (decades) of the water and protein-bound water peaks to shorter
T1/T2 (``cheese_like(shift=...)``): 0.01 decade per day from day 10."""

SHIFT_JITTER = 0.015
"""Sample-to-sample standard deviation of the shift, in decades."""

ALPHA = 1e-3
"""Global Tikhonov α used in the pipeline (data normalised to max |S| = 1)."""


def make_cheese_dataset(
    kernel: Kernel2D, n_per_day: int, random_state: int = 0, snr: float = 300.0
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated cheese decays labelled by ripening day.

    Parameters
    ----------
    kernel : Kernel2D
        The T1_IR-T2 acquisition.
    n_per_day : int
        Samples per ripening day.
    random_state : int
        Seed.
    snr : float
        ``max|S| / σ`` of the white noise.

    Returns
    -------
    X : numpy.ndarray, shape (3·n_per_day, n1·n2)
        Noisy decays, flattened.
    y : numpy.ndarray, shape (3·n_per_day,)
        The ripening day (10, 15 or 20).
    """
    rng = np.random.default_rng(random_state)
    X, y = [], []
    for day, shift in DAY_TO_SHIFT.items():
        for _ in range(n_per_day):
            weights = rng.dirichlet(40.0 * np.array([0.5, 0.2, 0.3]))
            sc = cheese_like(
                kernel,
                snr=snr,
                random_state=rng,
                weights=tuple(weights),
                shift=shift + SHIFT_JITTER * rng.standard_normal(),
            )
            amplitude = rng.uniform(0.5, 1.5)
            X.append(amplitude * sc.data.ravel())
            y.append(day)
    return np.array(X), np.array(y)


class MapFeatures(TransformerMixin, BaseEstimator):
    """Features of flattened maps: their T1 and T2 projections, pooled and normalised.

    Each map is scaled to unit total mass (so the features do not depend on the sample's
    amount), projected on each axis, and neighbouring grid points are summed in groups of
    ``pool``.

    Parameters
    ----------
    map_shape : tuple of int
        ``(N1, N2)`` of the maps.
    pool : int
        Grid points per feature bin.
    """

    def __init__(self, map_shape: tuple[int, int] = (64, 64), pool: int = 2) -> None:
        self.map_shape = map_shape
        self.pool = pool

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> MapFeatures:
        """Record the number of input features; nothing is learned."""
        self.n_features_in_ = int(np.asarray(X).shape[1])
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``(n_samples, N1·N2)`` maps → ``(n_samples, ⌈N1/pool⌉ + ⌈N2/pool⌉)`` features."""
        maps = np.clip(np.asarray(X, dtype=float), 0, None).reshape(-1, *self.map_shape)
        maps = maps / np.maximum(maps.sum(axis=(1, 2), keepdims=True), 1e-300)
        feats = []
        for proj in (maps.sum(axis=2), maps.sum(axis=1)):
            n = proj.shape[1]
            pad = (-n) % self.pool
            proj = np.pad(proj, ((0, 0), (0, pad)))
            feats.append(proj.reshape(len(proj), -1, self.pool).sum(axis=2))
        return np.hstack(feats)


def make_pipelines(kernel: Kernel2D, alpha: float = ALPHA) -> tuple[Pipeline, Pipeline]:
    """The map pipeline (inverter → features → classifier) and the raw-decay baseline."""

    def classifier() -> list:
        return [("scale", StandardScaler()), ("clf", LogisticRegression(C=1.0, max_iter=5000))]

    maps = Pipeline(
        [
            ("invert", TikhonovInverter(kernel, penalty="global", alpha=alpha, max_iter=500)),
            ("features", MapFeatures(kernel.map_shape, pool=2)),
            *classifier(),
        ]
    )
    raw = Pipeline(classifier())
    return maps, raw


def run(kernel: Kernel2D, n_per_day: int, random_state: int = 0) -> dict:
    """Simulate, split 50/50 (stratified), fit both pipelines, return their test accuracies.

    Returns
    -------
    dict
        ``accuracy_maps``, ``accuracy_raw``, the fitted ``pipelines`` and the test split
        (``X_test``, ``y_test``).
    """
    X, y = make_cheese_dataset(kernel, n_per_day, random_state)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=random_state
    )
    maps, raw = make_pipelines(kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        maps.fit(X_tr, y_tr)
        acc_maps = float(maps.score(X_te, y_te))
    raw.fit(X_tr, y_tr)
    acc_raw = float(raw.score(X_te, y_te))
    return {
        "accuracy_maps": acc_maps,
        "accuracy_raw": acc_raw,
        "pipelines": (maps, raw),
        "X_test": X_te,
        "y_test": y_te,
    }


def main(argv: list[str] | None = None) -> dict:
    """Run the recipe; return both accuracies."""
    args = parse_args(__doc__.splitlines()[0], argv)
    kernel = t1t2_kernel(args.quick)
    n_per_day = 10 if args.quick else 60
    out = run(kernel, n_per_day, args.seed)
    maps_pipe = out["pipelines"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test_maps = maps_pipe["invert"].transform(out["X_test"])
    N1, N2 = kernel.map_shape
    proj = test_maps.reshape(-1, N1, N2).sum(axis=1)
    proj = proj / proj.sum(axis=1, keepdims=True)

    fig = Figure(figsize=(10, 3.4))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    for k, day in enumerate(DAY_TO_SHIFT):
        sel = out["y_test"] == day
        ax.semilogx(
            kernel.grid2 * 1e3,
            proj[sel].mean(axis=0),
            color=f"C{k}",
            label=f"day {day} (shift {DAY_TO_SHIFT[day]:.2f} dec)",
        )
    ax.set_xlabel("T2 (ms)")
    ax.set_ylabel("mean T2 projection")
    ax.set_title("Inverted test maps, averaged per ripening day", fontsize=10)
    ax.legend(fontsize=8)
    accs = [out["accuracy_maps"], out["accuracy_raw"]]
    bars = bx.bar(["maps\n(inverter → features)", "raw decays"], accs, color=["C2", "C7"])
    for bar, acc in zip(bars, accs, strict=True):
        bx.text(bar.get_x() + bar.get_width() / 2, acc + 0.02, f"{acc:.2f}", ha="center")
    bx.axhline(1 / 3, color="grey", ls=":", lw=1)
    bx.text(-0.45, 1 / 3 + 0.01, "chance", color="grey", fontsize=8, va="bottom", ha="left")
    bx.set_ylim(0, 1.1)
    bx.set_ylabel("test accuracy (day 10/15/20)")
    bx.set_title(f"LogisticRegression, {len(out['y_test'])} test samples", fontsize=10)
    fig.subplots_adjust(wspace=0.3)
    save(fig, args.out, "cheese_pipeline.png")
    print(f"accuracy on maps: {out['accuracy_maps']:.3f}")
    print(f"accuracy on raw decays: {out['accuracy_raw']:.3f}")
    return {"accuracy_maps": out["accuracy_maps"], "accuracy_raw": out["accuracy_raw"]}


if __name__ == "__main__":
    main()
