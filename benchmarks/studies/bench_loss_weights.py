"""DLEMLR dual-loss weights: the paper's 0.4 / 1.0 against other settings — one printed table.

Usage::

    python -m benchmarks.studies.bench_loss_weights [--n-train 4000] [--epochs 8] [--n-test 256]
                                                    [--family T1_IR-T2] [--markdown out.md]

For each ``(w_data, w_phys)`` setting a small DLEMLR network of the shipped size is trained
from the same seed on the same simulated pairs (``laplace_inv.dlemlr.train.simulate_features``,
random acquisition layouts of the family), then scored on held-out pairs drawn from another
seed:

- relative map error ``‖f − F‖ / ‖F‖`` (the data term's quantity);
- relative in-range residual ``‖K̃1 f K̃2ᵀ − S̃‖ / ‖S̃‖`` against the *noisy* test data (what a
  user can check on a measurement);
- mean matched peak-position error (decades) and mass-fraction error
  (:func:`laplace_inv.metrics.compare_to_truth`).

The budget is deliberately small (minutes on 2 CPU cores), so the table ranks the settings
under equal, short training; it is not the accuracy of the shipped model.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from laplace_inv.dlemlr.dataset import FeatureSet
from laplace_inv.dlemlr.estimator import DLEMLRInverter
from laplace_inv.dlemlr.loss import physics_residual
from laplace_inv.dlemlr.train import random_layout, simulate_features
from laplace_inv.metrics import compare_to_truth

#: ``(label, w_data, w_phys)``: the paper's setting first.
SETTINGS = (
    ("paper", 0.4, 1.0),
    ("equal", 1.0, 1.0),
    ("data-heavy", 1.0, 0.1),
    ("physics-heavy (shipped fine-tune)", 0.4, 10.0),
    ("data only", 1.0, 0.0),
    ("physics only", 0.0, 1.0),
)


def score(
    est: DLEMLRInverter, data: FeatureSet, family: str, seed: int, chunk: int
) -> dict[str, float]:
    """Held-out map error, in-range residual and peak errors of a trained estimator.

    ``data`` must carry the noisy data as physics target (``physics_target="noisy"``).
    """
    module = est.net_.module_.eval()
    Y = data.maps
    with torch.no_grad():
        tensors = data.batch()
        pred = module(**tensors)
        res = physics_residual(pred, tensors["K1"], tensors["K2"], tensors["S"])
        rel_res = (
            res.flatten(1).norm(dim=1) / tensors["S"].flatten(1).norm(dim=1).clamp_min(1e-30)
        ).numpy()
    pred = pred.numpy().reshape(len(Y), -1)
    map_err = np.linalg.norm(pred - Y, axis=1) / np.linalg.norm(Y, axis=1)
    # Peak scores need the grids: the layouts of simulate_features are re-drawn per chunk.
    pos, frac = [], []
    for i in range(len(Y)):
        kernel = random_layout(family, np.random.default_rng((seed, i // chunk)))
        N1, N2 = kernel.map_shape
        r = compare_to_truth(
            pred[i].reshape(N1, N2), Y[i].reshape(N1, N2), kernel.grid1, kernel.grid2
        )
        pos.append(r.position_error)
        frac.append(r.fraction_error)
    return {
        "map_error": float(np.mean(map_err)),
        "residual": float(np.mean(rel_res)),
        "position_error": float(np.nanmean(pos)),
        "fraction_error": float(np.nanmean(frac)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="T1_IR-T2")
    ap.add_argument("--n-train", type=int, default=4000)
    ap.add_argument("--n-test", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--markdown", default=None, help="also write the table here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    data = simulate_features(
        args.family, args.n_train, args.seed, chunk=args.chunk, n_jobs=args.threads
    )
    test_seed = args.seed + 20_000
    # Held-out physics target: the noisy data (what a user can check on a measurement).
    test_data = simulate_features(
        args.family,
        args.n_test,
        test_seed,
        chunk=args.chunk,
        physics_target="noisy",
        n_jobs=args.threads,
    )
    print(
        f"# simulated {args.n_train} + {args.n_test} pairs in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )

    header = (
        "setting",
        "w_data",
        "w_phys",
        "map error",
        "in-range residual",
        "position error (dec)",
        "fraction error",
        "train s",
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    reference = random_layout(args.family, np.random.default_rng(args.seed))
    for label, w_data, w_phys in SETTINGS:
        est = DLEMLRInverter(
            kernel=reference,
            w_data=w_data,
            w_phys=w_phys,
            max_epochs=args.epochs,
            lr=1.5e-3,
            warmup_steps=100,
            random_state=args.seed,
        )
        t1 = time.perf_counter()
        est.fit(data)
        t_train = time.perf_counter() - t1
        sc = score(est, test_data, args.family, test_seed, args.chunk)
        row = (
            label,
            f"{w_data:g}",
            f"{w_phys:g}",
            f"{sc['map_error']:.3f}",
            f"{sc['residual']:.4f}",
            f"{sc['position_error']:.3f}",
            f"{sc['fraction_error']:.3f}",
            f"{t_train:.0f}",
        )
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], flush=True)
    table = "\n".join(lines)
    print()
    print(
        f"# {args.family}, {args.n_train} training pairs, {args.epochs} epochs, "
        f"{args.n_test} held-out pairs (seed {test_seed})"
    )
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
