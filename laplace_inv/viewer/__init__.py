"""Interactive viewer in the browser: ``laplace-inv view [PATH]``.

A local server (standard library, bound to 127.0.0.1) serves one page that opens data, runs
the inverters in the background, compares maps on a shared colour scale, integrates drawn
regions and exports figures, maps, regions and reproducible code. Plotly's JavaScript comes
from the installed ``plotly`` package, so the page loads nothing from the network.

Examples
--------
>>> from laplace_inv.viewer import main
>>> main(["--help"])  # doctest: +SKIP
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Run ``laplace-inv view`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    Examples
    --------
    >>> main(["--port", "-1", "--no-browser"])  # the message goes to stderr
    2
    """
    from laplace_inv.viewer.cli import main as cli_main

    return cli_main(argv)


__all__ = ["main"]
