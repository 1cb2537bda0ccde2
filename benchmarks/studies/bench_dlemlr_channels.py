"""How far DLEMLR's input channels are from the data — one printed table.

Usage::

    python -m benchmarks.studies.bench_dlemlr_channels [--rho-scales 0.1 1] [--n-iter 50 200]
                                                       [--markdown out.md]

The network's ``nnt`` input channels are non-negative Tikhonov maps from a fixed number of
ADMM iterations (:func:`laplace_inv.dlemlr.features.nnt_maps`). For each real dataset
(:mod:`laplace_inv.datasets`; skipped when unavailable) and the simulated cement-like case,
the table gives each channel's residual over the noise, ``rms(K1 F K2ᵀ − S)/σ̂``, with the
ADMM penalties of :data:`~laplace_inv.dlemlr.features.NNT_CHANNELS` multiplied by each
``--rho-scale`` (1 is the shipped input) after each ``--n-iter``. A converged channel sits
near 1 for the lightly regularised channel and above it for the smooth ones; values far
above 1 mean the iterations stopped early, which the network has to make up for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from laplace_inv import datasets
from laplace_inv.dlemlr.features import NNT_CHANNELS, nnt_maps, project_with_noise
from laplace_inv.kernels import Kernel2D
from laplace_inv.metrics import residual_to_noise
from laplace_inv.simulate import cement_like

REAL = ("load_cement_t1t2", "load_maastricht_t2t2", "load_sse_dt2")


def channel_residuals(
    kernel: Kernel2D, data: np.ndarray, rho_scale: float, n_iter: int
) -> list[float]:
    """Residual/noise of every ``nnt`` channel, with the ADMM penalties times ``rho_scale``."""
    S = np.asarray(data, dtype=float)
    S = S / np.abs(S).max()
    Sp, sigma = project_with_noise(kernel, S[None])
    channels = tuple((c, first * rho_scale, last * rho_scale) for c, first, last in NNT_CHANNELS)
    maps = nnt_maps(kernel, Sp, sigma, n_iter, channels=channels)[0]
    return [residual_to_noise(S, kernel.forward(F.astype(float)), sigma[0]) for F in maps]


def cases() -> list[tuple[str, Kernel2D, np.ndarray]]:
    """The simulated cement-like case and every real dataset found."""
    sim = cement_like(random_state=7_000_001)
    found = [("simulated cement_like", sim.kernel, sim.data)]
    for loader in REAL:
        try:
            ds = getattr(datasets, loader)()
        except (OSError, KeyError, ValueError) as exc:
            print(f"{loader}: unavailable ({type(exc).__name__})", flush=True)
            continue
        found.append((loader.removeprefix("load_"), ds.kernel, ds.data))
    return found


def main(argv: list[str] | None = None) -> int:
    """Print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rho-scales", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument("--n-iter", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    scales = "/".join(f"{c:g}" for c, _, _ in NNT_CHANNELS)
    lines = [
        f"| case | rho scale | ADMM iterations | residual/noise, channels c = {scales} |",
        "|---|---|---|---|",
    ]
    print(lines[0], flush=True)
    for name, kernel, data in cases():
        for rho_scale in args.rho_scales:
            for n_iter in args.n_iter:
                r2n = channel_residuals(kernel, data, rho_scale, n_iter)
                row = (
                    f"| {name} | {rho_scale:g} | {n_iter} | "
                    + " / ".join(f"{v:.2f}" for v in r2n)
                    + " |"
                )
                lines.append(row)
                print(row, flush=True)
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
