"""The ``laplace-inv`` command line: demo, invert, train, bench.

Global options (``-v``, ``-q``, ``-o/--out``, ``--overwrite``, ``--figure-format``) are
accepted before or after the subcommand. Each subcommand lives in its own module and imports
the heavy libraries (torch, cvxpy, matplotlib, scikit-learn) only when it runs, so ``--help``
and ``--version`` stay fast.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]

EPILOG = """examples:
  laplace-inv --version
  laplace-inv demo --methods upen -o demo_out          # the cement demo (works offline)
  laplace-inv -v bench --list-methods                  # global options before or after
  laplace-inv bench -q --list-methods

Run 'laplace-inv COMMAND --help' for each command's options and examples.
Exit status: 0 success, 2 error (bad input, existing results), 130 interrupted (Ctrl-C).
"""

_DELEGATED = ("train", "bench", "view")
_GLOBAL_FLAGS = {"--verbose", "-q", "--quiet", "--overwrite"}
_VALUED = {"-o", "--out", "--figure-format"}


def _global_parser() -> argparse.ArgumentParser:
    """Options every subcommand accepts, before or after its name."""
    g = argparse.ArgumentParser(add_help=False)
    group = g.add_argument_group("global options")
    group.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more logging"
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="less output"
    )
    group.add_argument(
        "-o", "--out", default=argparse.SUPPRESS, help="output folder (default: laplace_inv_out)"
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        default=argparse.SUPPRESS,
        help="replace existing results (default: refuse)",
    )
    group.add_argument(
        "--figure-format",
        choices=("png", "svg", "pdf"),
        default=argparse.SUPPRESS,
        help="figure file type (default: png)",
    )
    return g


def _version() -> str:
    import laplace_inv  # already imported as the parent package

    return str(laplace_inv.__version__)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``laplace-inv``."""
    from laplace_inv.cli import demo, invert

    glob = _global_parser()
    parser = argparse.ArgumentParser(
        prog="laplace-inv",
        description="Two-dimensional Laplace NMR inversion (T1-T2, T2-T2, D-T2).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[glob],
    )
    parser.add_argument("--version", action="version", version=f"laplace-inv {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.add_parser(sub, [glob])
    invert.add_parser(sub, [glob])
    sub.add_parser("train", help="train a DLEMLR model (see 'laplace-inv train --help')")
    sub.add_parser("bench", help="run the benchmark harness (see 'laplace-inv bench --help')")
    sub.add_parser(
        "view", help="open the interactive viewer in the browser (see 'laplace-inv view --help')"
    )
    return parser


def _defaults(args: argparse.Namespace) -> argparse.Namespace:
    for name, value in (
        ("verbose", 0),
        ("quiet", False),
        ("out", None),
        ("overwrite", False),
        ("figure_format", "png"),
    ):
        if not hasattr(args, name):
            setattr(args, name, value)
    return args


def _configure_logging(verbose: int, quiet: bool) -> None:
    # -q silences tables and progress, never warnings (a wrong unit must not pass unseen)
    level = logging.WARNING if quiet else logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("laplace_inv").setLevel(level)


def _is_flag(token: str) -> bool:
    return token in _GLOBAL_FLAGS or re.fullmatch(r"-v+", token) is not None


def _split_delegated(argv: list[str]) -> tuple[str, list[str], list[str]] | None:
    """``(command, global options before it, the rest)`` for train/bench, else None."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in _VALUED and i + 1 < len(argv):
            i += 2
        elif _is_flag(token) or token.startswith(("--out=", "--figure-format=")):
            i += 1
        else:
            break
    if i < len(argv) and argv[i] in _DELEGATED:
        return argv[i], argv[:i], argv[i + 1 :]
    return None


def _normalise_delegated(command: str, before: list[str], rest: list[str]) -> list[str]:
    """Translate the shared conventions into the delegated parser's own options."""
    from laplace_inv.cli.delegate import normalise

    return normalise(command, before, rest)


def _run_delegated(command: str, argv: list[str]) -> int:
    from laplace_inv.cli.delegate import run_bench, run_train

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return run_train(argv) if command == "train" else run_bench(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``laplace-inv`` console script.

    Returns
    -------
    int
        0 on success, 2 on an error, 130 when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        delegated = _split_delegated(argv)
        if delegated is not None:
            command, before, rest = delegated
            if command == "view":
                from laplace_inv.viewer import main as view_main

                return view_main(rest)
            return _run_delegated(command, _normalise_delegated(command, before, rest))
        args = _defaults(build_parser().parse_args(argv))
        _configure_logging(args.verbose, args.quiet)
        try:
            return int(args.func(args))
        except (ValueError, TypeError, OSError, RuntimeError, FloatingPointError) as exc:
            print(f"laplace-inv {args.command}: error: {exc}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print("\nlaplace-inv: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
