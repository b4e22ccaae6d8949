"""A loopback HTTP server in a thread: what every simulator and receiver test serves on.

``LoopbackServer(handler)`` binds 127.0.0.1 (port 0 picks a free one) when constructed or on
``bind()``, so ``url`` is known before serving starts; ``start()``/``stop()`` or ``with``
serve it in a daemon thread. Handlers derived from ``QuietHandler`` log nothing: request
lines and bodies of a hotel integration carry guest data.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no Nagle stall, an idle timeout, and no access log on stderr.

    ``self.server.owner`` is the object the server was created for (the simulator)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    timeout = 10  # an idle keep-alive connection is closed, so no thread waits forever

    @property
    def owner(self) -> Any:
        return self.server.owner  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopbackServer:
    """``with LoopbackServer(Handler, owner=sim) as srv:`` serves at ``srv.url`` until the block ends."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        owner: Any = None,
        port: int = 0,
        path: str = "",
        name: str = "loopback-server",
        bind: bool = True,
    ) -> None:
        self.handler, self.owner, self.port, self.path, self.name = handler, owner, port, path, name
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._address: tuple[str, int] | None = None  # kept after stop(), for messages and logs
        if bind:
            self.bind()

    def bind(self) -> LoopbackServer:
        """Listen on 127.0.0.1 (without serving yet); a second call is a no-op."""
        if self._server is None:
            server = ThreadingHTTPServer((LOOPBACK, self.port), self.handler)
            server.daemon_threads = True
            server.owner = self.owner  # type: ignore[attr-defined]
            self._server = server
            self._address = server.server_address[:2]  # type: ignore[assignment]
        return self

    @property
    def bound(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self._address is None:
            raise RuntimeError(f"{self.name} is not bound: call bind() or start() first")
        host, port = self._address
        return f"http://{host}:{port}{self.path}"

    def start(self) -> LoopbackServer:
        self.bind()
        assert self._server is not None
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; the server can be bound and started again."""
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
        self._server, self._thread = None, None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
