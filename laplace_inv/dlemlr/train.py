"""``laplace-inv train``: train a DLEMLR model on simulated pairs and write it with its record.

Options come from the command line or a TOML recipe (`laplace_inv.dlemlr.recipe`); the run
writes ``<family>.safetensors``, ``<family>.json`` (config, training distribution, seed,
epochs, validation metrics, SHA-256 of the weights, the recipe's file name) and
``<family>.toml`` (the recipe of the run, so that it can be repeated) to ``--out``, never
into the installed package. The recipes of the shipped model are in
``laplace_inv/dlemlr/recipes``; ``docs/design/dlemlr-training.md`` tells its history.

Examples
--------
>>> build_parser().parse_args(["--recipe", "all-stage4.toml"]).recipe
'all-stage4.toml'
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from laplace_inv.dlemlr.admm import ADMM_RHO
from laplace_inv.dlemlr.dataset import FeatureSet
from laplace_inv.dlemlr.estimator import DLEMLRInverter
from laplace_inv.dlemlr.features import BASE_CHANNEL, DEFAULT_N_ITER, NNT_SCALES
from laplace_inv.dlemlr.loss import region_mass_error
from laplace_inv.dlemlr.net import usable_device
from laplace_inv.dlemlr.persistence import sha256_file
from laplace_inv.dlemlr.recipe import NOT_IN_RECIPES, format_recipe, read_recipe
from laplace_inv.dlemlr.record import FAMILIES, UNIVERSAL
from laplace_inv.dlemlr.simulation import (
    TRAIN_PRIOR,
    acquisition_from_args,
    acquisition_record,
    add_prior_arguments,
    prior_from_args,
    random_axis,
    random_layout,
    simulate_features,
)
from laplace_inv.simulate import cement_kernel

__all__ = ["TRAIN_PRIOR", "build_parser", "random_axis", "random_layout", "simulate_features"]

#: The installed package: training never writes inside it.
PACKAGE_DIR = Path(__file__).resolve().parent.parent


def final_train_loss(history: list[dict]) -> float | None:
    """The training loss of the last epoch that completed one.

    A run stopped by hand (Ctrl-C, which skorch turns into an early stop) ends with an
    epoch row that has no training loss; the record then keeps the one before.

    Parameters
    ----------
    history : list of dict
        The estimator's ``history_`` rows.

    Returns
    -------
    float or None
        The loss, or None when no epoch completed.

    Examples
    --------
    >>> final_train_loss([{"epoch": 1, "train_loss": 0.9}, {"epoch": 2}])
    0.9
    >>> final_train_loss([{"epoch": 1}]) is None
    True
    """
    losses = [row["train_loss"] for row in history if "train_loss" in row]
    return float(losses[-1]) if losses else None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``laplace-inv train``.

    Returns
    -------
    argparse.ArgumentParser
        The parser.
    """
    p = argparse.ArgumentParser(
        prog="laplace-inv train",
        description="Train a DLEMLR model on simulated data. Writes <family>.safetensors, "
        "<family>.json (config, training, validation, SHA-256) and <family>.toml (the recipe "
        "of the run) to --out.",
        epilog="example: laplace-inv train --recipe all-stage4.toml --n-train 512 "
        "--epochs 1 --out my-model",
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
    add_prior_arguments(p)
    p.add_argument(
        "--init",
        default=None,
        help="weights file to fine-tune from (its JSON record is kept in the new one)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sim-jobs", type=int, default=2, help="processes for the simulation")
    p.add_argument("--device", default="cpu", help="torch device of training and validation")
    p.add_argument("--verbose", type=int, default=1)
    p.add_argument(
        "--recipe",
        default=None,
        help="TOML recipe whose [train] table sets these options (the command line wins); "
        "a bare name is also looked up among the shipped recipes",
    )
    p.add_argument(
        "--out",
        default=None,
        help="output folder (default: a new folder dlemlr-<family>-<time> here); never "
        "inside the installed package",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace a model of the same family in --out"
    )
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line, with a ``--recipe``'s options as defaults.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        The options.
    """
    p = build_parser()
    first = p.parse_args(argv)
    if first.recipe is not None:
        try:
            p.set_defaults(**read_recipe(first.recipe, p))
        except (OSError, ValueError) as exc:
            p.error(str(exc))
    return p.parse_args(argv)


def output_dir(out: str | None, family: str, overwrite: bool) -> Path:
    """The folder a run writes to: ``out``, or a new folder in the working directory.

    Parameters
    ----------
    out : str or None
        The ``--out`` option.
    family : str
        The trained family (the file stem).
    overwrite : bool
        Whether an earlier model of the family in ``out`` may be replaced.

    Returns
    -------
    pathlib.Path
        An existing folder outside the installed package.

    Raises
    ------
    ValueError
        ``out`` is inside the installed package, or holds a model of ``family`` and
        ``overwrite`` is false.
    """
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path.cwd() / f"dlemlr-{family}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path.cwd() / f"dlemlr-{family}-{stamp}-{n}"
    else:
        path = Path(out)
    resolved = path.resolve()
    if resolved == PACKAGE_DIR or PACKAGE_DIR in resolved.parents:
        raise ValueError(
            f"--out {out} is inside the installed package ({PACKAGE_DIR}); training never "
            "writes there: give another folder, and load the result with "
            "DLEMLRInverter(kernel, weights=PATH)"
        )
    existing = [path / f"{family}.{ext}" for ext in ("safetensors", "json", "toml")]
    if not overwrite and any(f.exists() for f in existing):
        raise ValueError(
            f"{path} already holds a {family} model; pass --overwrite or another --out"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


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
        from laplace_inv.dlemlr.persistence import read_record

        record["record"] = read_record(jfile)
    return record


def _map_errors(est: DLEMLRInverter, data: FeatureSet) -> dict[str, float]:
    """Relative L2 map error of the network and of its base (input) channel alone, and the
    network's peak-region mass error when the set has region labels (on the net's device)."""
    module = est.net_.module_
    module.eval()
    dev = next(module.parameters()).device
    err_net, err_base, err_mass = [], [], []
    with torch.no_grad():
        for start in range(0, len(data), 256):
            idx = slice(start, start + 256)
            feats = {k: v.to(dev) for k, v in data.batch(idx).items()}
            truth = torch.from_numpy(data.maps[idx].astype(np.float32)).to(dev)
            nt = truth.norm(dim=1)
            pred = module(**feats).reshape(len(truth), -1)
            base = feats["nnt"][:, BASE_CHANNEL].reshape(len(truth), -1)
            err_net.append(((pred - truth).norm(dim=1) / nt).cpu())
            err_base.append(((base - truth).norm(dim=1) / nt).cpu())
            if "labels" in feats:
                err_mass.append(region_mass_error(pred, truth, feats["labels"]).cpu())
    out = {
        "relative_map_error_net": float(torch.cat(err_net).mean()),
        "relative_map_error_base_channel": float(torch.cat(err_base).mean()),
    }
    if err_mass:
        out["region_mass_error_net"] = float(torch.cat(err_mass).mean())
    return out


def _estimator(args: argparse.Namespace) -> DLEMLRInverter:
    reference = (
        cement_kernel()
        if args.family in ("T1_IR-T2", UNIVERSAL)
        else random_layout(args.family, np.random.default_rng(args.seed))
    )
    return DLEMLRInverter(
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
        device=usable_device(args.device),
        init_weights=args.init,
        random_state=args.seed,
        verbose=args.verbose,
    )


def _simulate(args: argparse.Namespace, n: int, seed: int, labels: bool) -> FeatureSet:
    efficiency, offset = acquisition_from_args(args)
    return simulate_features(
        args.family,
        n,
        seed,
        chunk=args.chunk,
        snr=(args.snr_min, args.snr_max),
        prior=prior_from_args(args),
        efficiency=efficiency,
        offset=offset,
        physics_target=args.physics_target,
        n_iter=args.n_iter_phys,
        labels=labels,
        n_jobs=args.sim_jobs,
    )


def _training_record(args: argparse.Namespace, est: DLEMLRInverter, timing: dict) -> dict:
    prior = prior_from_args(args)
    loss = "dual loss, relative squared errors per sample (laplace_inv.dlemlr.loss.dual_loss, "
    loss += "relative=True)"
    if args.w_mass:
        loss += (
            f" + {args.w_mass:g} x peak-region mass error "
            "(laplace_inv.dlemlr.loss.region_mass_error)"
        )
    return {
        "n_train": args.n_train,
        "pairs_per_layout": args.chunk,
        "layouts": "random per chunk: laplace_inv.dlemlr.simulation.random_layout",
        "prior": dataclasses.asdict(prior),
        "acquisition": acquisition_record(args),
        "snr": [args.snr_min, args.snr_max],
        "noise": "additive white Gaussian, sigma = max|S|/SNR",
        "oversample": 2,
        "seed": args.seed,
        "epochs_run": len(est.history_),
        "max_epochs": args.epochs,
        "time_limit_s": args.time_limit,
        "optimizer": "AdamW + cosine annealing, grad-norm clip 1",
        "loss": loss,
        "inputs": {
            "nnt_scales": list(NNT_SCALES),
            "admm_rho": ADMM_RHO,
            "base_channel": BASE_CHANNEL,
        },
        "warmup_steps": args.warmup_steps,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "simulation_s": round(timing["simulation"], 1),
        "training_s": round(timing["training"], 1),
        "device": str(est.net_.device),
        "history": est.history_,
        "init": _init_record(args.init),
    }


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
    args = parse_args(argv)
    try:
        acquisition_from_args(args)
        prior_from_args(args)
        out = output_dir(args.out, args.family, args.overwrite)
        est = _estimator(args)
    except ValueError as exc:
        build_parser().error(str(exc))
    if args.verbose:
        print(f"writing to {out}", flush=True)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    data = _simulate(args, args.n_train, args.seed, labels=args.w_mass > 0)
    timing = {"simulation": time.perf_counter() - t0}
    if args.verbose:
        print(f"simulated {args.n_train} pairs in {timing['simulation']:.0f} s", flush=True)
    t1 = time.perf_counter()
    est.fit(data)
    timing["training"] = time.perf_counter() - t1
    del data
    test_set = _simulate(args, args.n_test, args.seed + 10_000, labels=True)
    metrics: dict[str, float | None] = dict(_map_errors(est, test_set))
    valid = [row["valid_loss"] for row in est.history_ if "valid_loss" in row]
    metrics["best_valid_loss"] = float(min(valid)) if valid else None
    metrics["final_train_loss"] = final_train_loss(est.history_)

    wfile = est.save(out / f"{args.family}.safetensors")
    options = {k: v for k, v in vars(args).items() if k not in NOT_IN_RECIPES}
    command = "laplace-inv train " + " ".join(sys.argv[1:] if argv is None else argv)
    recipe = format_recipe(options, {"command": command})
    _write_atomically(out / f"{args.family}.toml", recipe)
    record = {
        "family": args.family,
        "families": (sorted(FAMILIES) if args.family == UNIVERSAL else [args.family]),
        "config": est._config(),
        "n_parameters": int(sum(p.numel() for p in est.net_.module_.parameters())),
        "training": _training_record(args, est, timing),
        "validation": {"n_test": args.n_test, "test_seed": args.seed + 10_000, **metrics},
        "command": command,
        "recipe": f"{args.family}.toml",
        "sha256": sha256_file(wfile),
    }
    text = json.dumps(record, indent=1, default=float) + "\n"
    _write_atomically(out / f"{args.family}.json", text)
    if args.verbose:
        print(json.dumps(record["validation"], indent=1), flush=True)
        print(f"wrote {wfile} ({wfile.stat().st_size / 1e6:.1f} MB)", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(train_main())
