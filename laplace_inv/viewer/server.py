"""The viewer's HTTP server: loopback only, static page and assets, JSON endpoints.

Built on the standard library's ``ThreadingHTTPServer``: each request gets a thread, and long
work runs in `JobRunner`, so a slow inversion never holds up the page. Protections:

* the socket is bound to ``127.0.0.1`` only (other interfaces get "connection refused");
* requests whose ``Host`` header is not ``127.0.0.1:PORT`` or ``localhost:PORT`` are refused
  (a web page elsewhere cannot reach the server through DNS rebinding);
* endpoints take JSON ``POST`` bodies with an ``X-Session`` header, which a page from another
  origin cannot send without a CORS preflight that this server never grants;
* static files are served from a fixed list, never from a path taken from the URL.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from laplace_inv.viewer.api import ROUTES, FileReply
from laplace_inv.viewer.state import JobRunner, Session, SessionStore

log = logging.getLogger("laplace_inv.viewer")

HOST = "127.0.0.1"
MAX_BODY = 32 * 1024 * 1024
STATIC_DIR = Path(__file__).with_name("static")
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
INSTALL_HINT = "install the viewer's dependencies with: pip install 'laplace-inv[viewer]'"


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` bundled in the ``plotly`` Python package (served locally)."""
    try:
        import plotly
    except ImportError:
        raise RuntimeError(f"the viewer needs the plotly package; {INSTALL_HINT}") from None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise RuntimeError(f"{path} is missing from the plotly package; {INSTALL_HINT}")
    return path


def static_files() -> dict[str, Path]:
    """URL path to file for every asset the page may load."""
    files = {"/": STATIC_DIR / "index.html"}
    for path in sorted(STATIC_DIR.iterdir()):
        if path.suffix in STATIC_TYPES:
            files[f"/static/{path.name}"] = path
    files["/static/vendor/plotly.min.js"] = plotly_js_path()
    return files


class ViewerApp:
    """Sessions, jobs and the asset table shared by all request threads."""

    def __init__(self) -> None:
        self.sessions = SessionStore()
        self.jobs = JobRunner()
        self.static = static_files()


class ViewerServer(ThreadingHTTPServer):
    """A threading HTTP server bound to the loopback interface.

    Parameters
    ----------
    port : int
        TCP port; 0 picks a free one (see ``url``).

    Examples
    --------
    >>> server = ViewerServer(0)
    >>> server.server_address[0]
    '127.0.0.1'
    >>> server.server_close()
    """

    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, port: int = 0) -> None:
        self.app = ViewerApp()
        super().__init__((HOST, int(port)), ViewerHandler)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{HOST}:{self.port}/"

    def start_background(self) -> threading.Thread:
        """Serve in a daemon thread (tests, notebooks); stop with ``shutdown()``."""
        thread = threading.Thread(target=self.serve_forever, name="viewer-http", daemon=True)
        thread.start()
        return thread

    def server_close(self) -> None:
        """Close the socket and stop the job pool."""
        super().server_close()
        self.app.jobs.shutdown()


class ViewerHandler(BaseHTTPRequestHandler):
    """Routes one request: assets by ``GET``, endpoints by ``POST``."""

    server: ViewerServer
    server_version = "laplace-inv-viewer"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _host_ok(self) -> bool:
        port = self.server.port
        host = (self.headers.get("Host") or "").strip().lower()
        return host in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-eval'; connect-src 'self'",
        )
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(_finite(data), allow_nan=False, default=_json_default).encode()
        self._send(status, body, "application/json")

    def do_GET(self) -> None:
        """Serve the page and its assets."""
        if not self._host_ok():
            self._json(HTTPStatus.FORBIDDEN, {"error": "unexpected Host header"})
            return
        path = self.path.split("?", 1)[0]
        file = self.server.app.static.get(path)
        if file is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path}"})
            return
        self._send(HTTPStatus.OK, file.read_bytes(), STATIC_TYPES.get(file.suffix, "text/plain"))

    def _payload(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError(f"request too large ({length} bytes; at most {MAX_BODY})")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            payload = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"the request is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ValueError("the request body must be a JSON object")
        return payload

    def do_POST(self) -> None:
        """Run one endpoint; errors come back as ``{"error": message}``."""
        if not self._host_ok():
            self._json(HTTPStatus.FORBIDDEN, {"error": "unexpected Host header"})
            return
        route = ROUTES.get(self.path)
        if route is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {self.path}"})
            return
        app = self.server.app
        session: Session | None
        if self.path == "/api/session":
            session = app.sessions.create()
        else:
            session = app.sessions.get(self.headers.get("X-Session"))
            if session is None:
                self._json(HTTPStatus.UNAUTHORIZED, {"error": "session expired: reload the page"})
                return
        try:
            reply = route(app, session, self._payload())
        except (ValueError, TypeError, OSError, RuntimeError, KeyError) as exc:
            message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
            self._json(HTTPStatus.BAD_REQUEST, {"error": message or type(exc).__name__})
            return
        except Exception as exc:  # a bug must not stop the server; the page shows it
            log.exception("viewer endpoint %s failed", self.path)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"})
            return
        if isinstance(reply, FileReply):
            disposition = f'attachment; filename="{reply.filename}"'
            self._send(
                HTTPStatus.OK, reply.body, reply.content_type, {"Content-Disposition": disposition}
            )
        else:
            self._json(HTTPStatus.OK, reply)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _finite(obj: Any) -> Any:
    """``obj`` with NaN and infinities replaced by ``None`` (JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "tolist"):
        return _finite(obj.tolist())
    return obj
