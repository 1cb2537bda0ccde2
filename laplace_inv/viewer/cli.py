"""``laplace-inv view``: start the viewer server and open the page in a browser."""

from __future__ import annotations

import argparse
import sys
import webbrowser

DESCRIPTION = (
    "Open the interactive viewer in the browser: load a file, folder or dataset, run and "
    "compare methods, draw regions, export figures, maps and code. The server listens on "
    "127.0.0.1 only and works offline."
)
EPILOG = """examples:
  laplace-inv view                                   # empty page; open data from it
  laplace-inv view path/to/Upen2DToolFolder          # open this folder at start
  laplace-inv view data.npz --no-browser --port 8765 # remote machine: forward the port
"""


def build_parser(prog: str = "laplace-inv view") -> argparse.ArgumentParser:
    """The argument parser of the ``view`` command."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``view`` options to ``parser`` (for a subcommand of ``laplace-inv``)."""
    parser.add_argument("path", nargs="?", help="data file or folder to open at start")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument(
        "--no-browser", action="store_true", help="print the address only (remote machines)"
    )


def serve(path: str | None, port: int = 0, browser: bool = True) -> int:
    """Run the server until Ctrl-C; returns the exit code."""
    from laplace_inv.viewer.server import ViewerServer

    if not 0 <= port <= 65535:
        raise ValueError(f"port must be between 0 and 65535, got {port}")
    server = ViewerServer(port)
    url = server.url
    if path:
        from urllib.parse import quote

        url += "?open=" + quote(str(path))
    print(f"laplace-inv viewer: {url}  (Ctrl-C stops it)", flush=True)
    if browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    finally:
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the viewer."""
    args = build_parser().parse_args(argv)
    try:
        return serve(args.path, args.port, not args.no_browser)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"laplace-inv view: error: {exc}", file=sys.stderr)
        return 2
