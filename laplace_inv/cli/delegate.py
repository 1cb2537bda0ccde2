"""``laplace-inv train`` and ``laplace-inv bench``: forwarded to their own parsers.

The shared conventions are translated into those parsers' options: global options may come
before the subcommand, ``-o`` means ``--out``, and ``--methods`` takes ``a,b`` or ``a b``.
Nothing is added: in particular ``train`` gets no default output folder from here.
"""

from __future__ import annotations

import re

from laplace_inv.cli._common import split_list

__all__ = ["normalise", "run_bench", "run_train"]


def _join_methods(tokens: list[str]) -> list[str]:
    """``--methods a b`` or ``--methods a, b`` → ``--methods a,b``."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "--methods":
            values = []
            i += 1
            while i < len(tokens) and not tokens[i].startswith("-"):
                values.append(tokens[i])
                i += 1
            out += ["--methods", ",".join(split_list(values))] if values else ["--methods"]
            continue
        if token.startswith("--methods="):
            token = "--methods=" + ",".join(split_list(token.split("=", 1)[1]))
        out.append(token)
        i += 1
    return out


def normalise(command: str, before: list[str], rest: list[str]) -> list[str]:
    """The argument list for the delegated parser of ``command``.

    Examples
    --------
    >>> normalise("bench", ["-vv"], ["--methods", "upen", "l1", "-o", "x"])
    ['-v', '--methods', 'upen,l1', '--out', 'x']
    >>> normalise("train", ["-q"], ["--family", "t1t2"])
    ['--verbose', '0', '--family', 't1t2']
    >>> normalise("train", [], ["--verbose", "2", "--epochs", "1"])
    ['--verbose', '2', '--epochs', '1']
    """
    tokens = before + rest
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "-o":
            out.append("--out")
        elif token == "--verbose" and command == "train" and i + 1 < len(tokens):
            out += tokens[i : i + 2]  # train's own --verbose LEVEL
            i += 1
        elif re.fullmatch(r"-v+", token) or token == "--verbose":
            if command == "bench" and "-v" not in out:
                out.append("-v")
        elif token in ("-q", "--quiet") and command == "train":
            out += ["--verbose", "0"]
        elif token == "--overwrite" and command == "bench":
            pass  # bench writes its own report files; nothing to forward
        else:
            out.append(token)
        i += 1
    return _join_methods(out)


def run_train(argv: list[str]) -> int:
    """Train a DLEMLR model (``laplace_inv.dlemlr.train.train_main``)."""
    from laplace_inv.dlemlr.train import train_main

    return int(train_main(argv) or 0)


def run_bench(argv: list[str]) -> int:
    """Run the benchmark harness (``laplace_inv.bench.cli.bench_main``)."""
    from laplace_inv.bench.cli import bench_main

    return int(bench_main(argv) or 0)
