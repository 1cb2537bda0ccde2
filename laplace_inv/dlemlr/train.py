"""Train a DLEMLR model on simulated data (``laplace-inv train``).

Every chunk of training pairs gets its own random acquisition layout (number of points, time
span, echo spacing) with the default 64-point output grids, so that one model serves any
layout. With ``--family all`` (the default, the shipped universal model) each chunk also draws
its experiment family (IR and SR T1-T2, T2-T2, D-T2); ``--family NAME`` trains one family.
Maps come from :class:`laplace_inv.simulate.PeakPrior`; noise is additive Gaussian with an
SNR drawn log-uniformly (30 to 3000 by default). The result is written to
``<out>/<family>.safetensors`` and ``<out>/<family>.json`` (config, training distribution,
seed, epochs, validation metrics, SHA-256 of the weights).

Examples
--------
Reproduce the shipped universal model in four stages. First the input-version-2 model of
commit 54a8828 (about 12 min of simulation and 100 min of training on 2 CPU cores, about
11 GB of memory; a third of the peaks are placed next to an earlier one, ``--cluster 0.3``, so
that close pairs are common)::

    laplace-inv train --family all --n-train 150000 --n-test 1024 --epochs 200 \\
        --time-limit 6000 --lr 1.5e-3 --warmup-steps 300 --cluster 0.3 --seed 0

then, on the current input (ADMM penalty ``ρ/α = 3000``), fine-tuned from it with a heavier
physics term (7 min of simulation, 47 min of training); ``git show
54a8828:laplace_inv/dlemlr/weights/all.safetensors > v2_all.safetensors`` gives the starting
file, whose SHA-256 and record the new JSON keeps::

    laplace-inv train --family all --init v2_all.safetensors --n-train 100000 \\
        --n-test 1024 --epochs 200 --time-limit 2700 --lr 5e-4 --warmup-steps 100 \\
        --w-phys 10 --cluster 0.3 --seed 1

and fine-tuned once more from that (``git show
367b3a1:laplace_inv/dlemlr/weights/all.safetensors > v3_all.safetensors``) on fresh pairs
(7 min of simulation, 60 min of training)::

    laplace-inv train --family all --init v3_all.safetensors --n-train 120000 \\
        --n-test 1024 --epochs 200 --time-limit 3600 --lr 3e-4 --warmup-steps 100 \\
        --w-phys 10 --cluster 0.3 --seed 2

and finally from that (``git show 8f68478:laplace_inv/dlemlr/weights/all.safetensors >
v4_all.safetensors``) with fewer close pairs, ``--cluster 0.1``, which lowers the
mass-fraction error (9 min of simulation, 46 min of training)::

    laplace-inv train --family all --init v4_all.safetensors --n-train 120000 \\
        --n-test 1024 --epochs 200 --time-limit 2700 --lr 3e-4 --warmup-steps 100 \\
        --w-phys 10 --cluster 0.1 --seed 6

The learning rate anneals over the time limit, so a slower or faster machine runs fewer or
more epochs of the same schedule; the JSON record holds the epochs actually run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed

from laplace_inv.dlemlr.admm import ADMM_RHO
from laplace_inv.dlemlr.dataset import FeatureSet, make_feature_set
from laplace_inv.dlemlr.estimator import (
    FAMILIES,
    UNIVERSAL,
    WEIGHTS_DIR,
    DLEMLRInverter,
    sha256_file,
)
from laplace_inv.dlemlr.features import BASE_CHANNEL, DEFAULT_N_ITER, NNT_SCALES
from laplace_inv.dlemlr.loss import region_mass_error
from laplace_inv.kernels import Kernel2D, KernelAxis
from laplace_inv.simulate import PeakPrior, cement_kernel, make_training_set

#: The training map prior (wider and sharper than the paper's σ = 0.02-decade peaks on one
#: decade; peaks may be tilted).
TRAIN_PRIOR = PeakPrior(
    n_peaks=(1, 5),
    sigma=(0.025, 0.25),
    rho=(-0.5, 0.5),
    weight=(0.2, 1.0),
    min_separation=0.12,
    margin=0.35,
)


def random_axis(kind: str, rng: np.random.Generator, direct: bool, n_grid: int = 64) -> KernelAxis:
    """A random acquisition axis of ``kind``.

    Direct (CPMG) axes: ``n2`` log-uniform in [200, 4096] echoes, echo spacing log-uniform in
    [30 µs, 1 ms]. Indirect relaxation axes: ``n1`` in [16, 64] log-spaced delays from
    [0.1, 5] ms spanning 2.5 to 4 decades. Diffusion: ``n1`` in [16, 64] b-values quadratic
    in the gradient, ``b_max`` log-uniform in [3e9, 3e11] s/m².
    """
    if direct:
        n = int(np.exp(rng.uniform(np.log(200), np.log(4096))))
        te = float(np.exp(rng.uniform(np.log(3e-5), np.log(1e-3))))
        return KernelAxis(kind, np.arange(1, n + 1) * te, n_grid=n_grid)
    n = int(rng.integers(16, 65))
    if kind == "D":
        bmax = float(np.exp(rng.uniform(np.log(3e9), np.log(3e11))))
        b = bmax * np.linspace(1.0 / n, 1.0, n) ** 2
        return KernelAxis(kind, b, n_grid=n_grid)
    tmin = float(np.exp(rng.uniform(np.log(1e-4), np.log(5e-3))))
    span = float(rng.uniform(2.5, 4.0))
    return KernelAxis(kind, np.geomspace(tmin, tmin * 10**span, n), n_grid=n_grid)


def random_layout(family: str, rng: np.random.Generator, n_grid: int = 64) -> Kernel2D:
    """A random acquisition layout of an experiment family (see :func:`random_axis`).

    ``family="all"`` (:data:`~laplace_inv.dlemlr.estimator.UNIVERSAL`, the universal model)
    first draws the family uniformly from :data:`FAMILIES`.
    """
    if family == UNIVERSAL:
        family = sorted(FAMILIES)[int(rng.integers(len(FAMILIES)))]
    k1, k2 = FAMILIES[family]
    return Kernel2D(random_axis(k1, rng, False, n_grid), random_axis(k2, rng, True, n_grid))


def simulate_features(
    family: str,
    n_samples: int,
    seed: int,
    *,
    chunk: int = 64,
    prior: PeakPrior = TRAIN_PRIOR,
    snr: tuple[float, float] = (30.0, 3000.0),
    oversample: int = 2,
    n_iter: int = DEFAULT_N_ITER,
    physics_target: str = "clean",
    n_grid: int = 64,
    labels: bool = False,
    n_jobs: int = 1,
) -> FeatureSet:
    """Simulated, normalised, featurised training pairs over random layouts.

    Chunk ``i`` (``chunk`` pairs on one random layout) is drawn from its own generator,
    seeded by ``(seed, i)``, so the result does not depend on ``n_jobs``. ``labels`` adds each
    bin's peak region (for the ``w_mass`` loss term); the pairs themselves do not change.

    Returns
    -------
    FeatureSet
        Features and true maps, normalised with their decay (``max|S| = 1``).
    """
    sizes = [min(chunk, n_samples - start) for start in range(0, n_samples, chunk)]
    jobs = (
        delayed(_simulate_chunk)(
            family, m, (seed, i), prior, snr, oversample, n_iter, physics_target, n_grid, labels
        )
        for i, m in enumerate(sizes)
    )
    return FeatureSet.concat(Parallel(n_jobs=n_jobs)(jobs))


def _simulate_chunk(
    family: str,
    m: int,
    seed: tuple[int, int],
    prior: PeakPrior,
    snr: tuple[float, float],
    oversample: int,
    n_iter: int,
    physics_target: str,
    n_grid: int,
    labels: bool,
) -> FeatureSet:
    rng = np.random.default_rng(seed)
    kernel = random_layout(family, rng, n_grid)
    X, Y, _, *regions = make_training_set(
        kernel,
        m,
        prior=prior,
        snr=snr,
        oversample=oversample,
        random_state=rng,
        return_labels=labels,
    )
    S = X.reshape(m, *kernel.data_shape)
    scale = np.maximum(np.abs(S).reshape(m, -1).max(axis=1), 1e-300)
    S = S / scale[:, None, None]
    return make_feature_set(
        kernel,
        S,
        Y / scale[:, None],
        physics_target=physics_target,
        labels=regions[0] if regions else None,
        n_iter=n_iter,
        dtype=np.float16,
    )


def _init_record(path: str | None) -> dict | None:
    """Where fine-tuning starts: the file's SHA-256 and its JSON record, if any."""
    if path is None:
        return None
    wfile = Path(path)
    if not wfile.is_file():
        raise FileNotFoundError(f"--init {path}: no such weights file")
    record: dict = {"weights": wfile.name, "sha256": sha256_file(wfile)}
    jfile = wfile.with_suffix(".json")
    if jfile.is_file():
        record["record"] = json.loads(jfile.read_text())
    return record


def _map_errors(est: DLEMLRInverter, data: FeatureSet) -> dict[str, float]:
    """Relative L2 map error of the network and of its base (input) channel alone, and the
    network's peak-region mass error when the set has region labels."""
    module = est.net_.module_
    module.eval()
    err_net, err_base, err_mass = [], [], []
    with torch.no_grad():
        for start in range(0, len(data), 256):
            idx = slice(start, start + 256)
            feats = data.batch(idx)
            truth = data.maps[idx].astype(np.float32)
            nt = np.linalg.norm(truth, axis=1)
            pred = module(**feats).numpy().reshape(len(truth), -1)
            base = feats["nnt"][:, BASE_CHANNEL].numpy().reshape(len(truth), -1)
            err_net.append(np.linalg.norm(pred - truth, axis=1) / nt)
            err_base.append(np.linalg.norm(base - truth, axis=1) / nt)
            if "labels" in feats:
                err_mass.append(
                    region_mass_error(
                        torch.from_numpy(pred), torch.from_numpy(truth), feats["labels"]
                    ).numpy()
                )
    out = {
        "relative_map_error_net": float(np.mean(np.concatenate(err_net))),
        "relative_map_error_base_channel": float(np.mean(np.concatenate(err_base))),
    }
    if err_mass:
        out["region_mass_error_net"] = float(np.mean(np.concatenate(err_mass)))
    return out


def train_main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``laplace-inv train``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    p = argparse.ArgumentParser(
        prog="laplace-inv train",
        description="Train a DLEMLR model for one experiment family on simulated data.",
    )
    p.add_argument(
        "--family",
        default=UNIVERSAL,
        choices=[UNIVERSAL, *sorted(FAMILIES)],
        help="experiment family, or 'all' for one universal model (default)",
    )
    p.add_argument("--n-train", type=int, default=8000, help="training pairs")
    p.add_argument("--n-test", type=int, default=512, help="held-out pairs (other seed)")
    p.add_argument("--chunk", type=int, default=64, help="pairs per random layout")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--time-limit", type=float, default=None, help="seconds of training")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--warmup-steps",
        type=int,
        default=0,
        help="linear LR warm-up steps then per-step cosine (0: per-epoch cosine)",
    )
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--mlp-ratio", type=int, default=4)
    p.add_argument("--patch", type=int, default=8)
    p.add_argument("--n-iter-phys", type=int, default=DEFAULT_N_ITER)
    p.add_argument("--w-data", type=float, default=0.4)
    p.add_argument("--w-phys", type=float, default=1.0)
    p.add_argument(
        "--w-mass",
        type=float,
        default=0.0,
        help="weight of the peak-region mass term (loss.region_mass_error)",
    )
    p.add_argument("--physics-target", default="clean", choices=("clean", "noisy"))
    p.add_argument("--snr-min", type=float, default=30.0)
    p.add_argument("--snr-max", type=float, default=3000.0)
    p.add_argument(
        "--cluster",
        type=float,
        default=0.0,
        help="probability that a peak is placed next to an earlier one "
        "(PeakPrior.cluster: close pairs for resolution)",
    )
    p.add_argument(
        "--cluster-radius",
        type=float,
        default=0.6,
        help="largest distance of a clustered peak, decades",
    )
    p.add_argument(
        "--pair-sigma-ratio",
        type=float,
        default=0.0,
        help="cap each peak's sigma at (distance to its nearest neighbour) / this "
        "(PeakPrior.pair_sigma_ratio; 0: off)",
    )
    p.add_argument(
        "--init",
        default=None,
        help="weights file to fine-tune from (its JSON record is kept in the new one)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sim-jobs", type=int, default=2, help="processes for the simulation")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=str(WEIGHTS_DIR), help="output folder")
    p.add_argument("--verbose", type=int, default=1)
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    init_record = _init_record(args.init)
    prior = dataclasses.replace(
        TRAIN_PRIOR,
        cluster=args.cluster,
        cluster_radius=args.cluster_radius,
        pair_sigma_ratio=args.pair_sigma_ratio,
    )
    t0 = time.perf_counter()
    snr = (args.snr_min, args.snr_max)
    data = simulate_features(
        args.family,
        args.n_train,
        args.seed,
        chunk=args.chunk,
        snr=snr,
        prior=prior,
        physics_target=args.physics_target,
        n_iter=args.n_iter_phys,
        labels=args.w_mass > 0,
        n_jobs=args.sim_jobs,
    )
    t_sim = time.perf_counter() - t0
    if args.verbose:
        print(f"simulated {args.n_train} pairs in {t_sim:.0f} s", flush=True)
    reference = (
        cement_kernel()
        if args.family in ("T1_IR-T2", UNIVERSAL)
        else random_layout(args.family, np.random.default_rng(args.seed))
    )
    est = DLEMLRInverter(
        kernel=reference,
        w_data=args.w_data,
        w_phys=args.w_phys,
        w_mass=args.w_mass,
        physics_target=args.physics_target,
        dim=args.dim,
        depth=args.depth,
        heads=args.heads,
        patch=args.patch,
        mlp_ratio=args.mlp_ratio,
        n_iter_phys=args.n_iter_phys,
        max_epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        warmup_steps=args.warmup_steps,
        time_limit=args.time_limit,
        device=args.device,
        init_weights=args.init,
        random_state=args.seed,
        verbose=args.verbose,
    )
    t1 = time.perf_counter()
    est.fit(data)
    t_train = time.perf_counter() - t1
    del data
    test_data = simulate_features(
        args.family,
        args.n_test,
        args.seed + 10_000,
        chunk=args.chunk,
        snr=snr,
        prior=prior,
        physics_target=args.physics_target,
        n_iter=args.n_iter_phys,
        labels=True,
        n_jobs=args.sim_jobs,
    )
    metrics = _map_errors(est, test_data)
    valid = [row["valid_loss"] for row in est.history_ if "valid_loss" in row]
    metrics["best_valid_loss"] = float(min(valid)) if valid else None
    metrics["final_train_loss"] = float(est.history_[-1]["train_loss"])

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wfile = out / f"{args.family}.safetensors"
    est.save(wfile)
    record = {
        "family": args.family,
        "families": (sorted(FAMILIES) if args.family == UNIVERSAL else [args.family]),
        "config": est._config(),
        "n_parameters": int(sum(p.numel() for p in est.net_.module_.parameters())),
        "training": {
            "n_train": args.n_train,
            "pairs_per_layout": args.chunk,
            "layouts": "random per chunk: laplace_inv.dlemlr.train.random_layout",
            "prior": dataclasses.asdict(prior),
            "snr": list(snr),
            "noise": "additive white Gaussian, sigma = max|S|/SNR",
            "oversample": 2,
            "seed": args.seed,
            "epochs_run": len(est.history_),
            "max_epochs": args.epochs,
            "time_limit_s": args.time_limit,
            "optimizer": "AdamW + cosine annealing, grad-norm clip 1",
            "loss": "dual loss, relative squared errors per sample "
            "(laplace_inv.dlemlr.loss.dual_loss, relative=True)"
            + (
                f" + {args.w_mass:g} x peak-region mass error "
                "(laplace_inv.dlemlr.loss.region_mass_error)"
                if args.w_mass
                else ""
            ),
            "inputs": {
                "nnt_scales": list(NNT_SCALES),
                "admm_rho": ADMM_RHO,
                "base_channel": BASE_CHANNEL,
            },
            "warmup_steps": args.warmup_steps,
            "lr": args.lr,
            "batch_size": args.batch_size,
            "simulation_s": round(t_sim, 1),
            "training_s": round(t_train, 1),
            "device": args.device,
            "history": est.history_,
            "init": init_record,
        },
        "validation": {"n_test": args.n_test, "test_seed": args.seed + 10_000, **metrics},
        "command": "laplace-inv train " + " ".join(sys.argv[1:] if argv is None else argv),
        "sha256": sha256_file(wfile),
    }
    (out / f"{args.family}.json").write_text(json.dumps(record, indent=1, default=float) + "\n")
    if args.verbose:
        print(json.dumps(record["validation"], indent=1), flush=True)
        print(f"wrote {wfile} ({wfile.stat().st_size / 1e6:.1f} MB)", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(train_main())
