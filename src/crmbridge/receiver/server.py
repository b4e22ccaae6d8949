"""The receiver under uvicorn, in a thread of its own, with its background processor."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import uvicorn
from sqlalchemy import text

from ..adapters.base import AdapterType, SourceContext
from ..config import Config, ConfigError, ReceiverConfig
from ..engine.sources import build_source
from ..monitor.health import freshness
from ..monitor.metrics import exposition
from ..plugins import Hooks
from ..store.guest_store import GuestStore
from .app import HEALTH_PATH, METRICS_PATH, PushRoute, build_app
from .limits import Limits, guarded_protocol
from .worker import Processor

log = logging.getLogger(__name__)
RECEIVE = "receive"


def push_sources(cfg: Config, hooks: Hooks, store: GuestStore) -> list[PushRoute]:
    """The configured sources whose adapter receives pushes, each with its own path."""
    routes: dict[str, PushRoute] = {}
    for src in cfg.sources.values():
        ctx, adapter = build_source(cfg, src, hooks, store)
        if RECEIVE not in adapter.capabilities:
            continue
        path = getattr(ctx.settings, "path", None)
        if path is None and getattr(ctx.settings, "push_enabled", True) is False:
            continue  # an adapter that can receive, configured to pull only (Fliggy via TOP)
        where = f"sources.{src.name}.path"
        if not isinstance(path, str) or not path.startswith("/"):
            raise ConfigError(cfg.path, where, 'a push source needs a path starting with "/"')
        if path in (HEALTH_PATH, METRICS_PATH) or path in routes:
            other = f"source {routes[path].ctx.name}" if path in routes else "the health check or metrics"
            raise ConfigError(cfg.path, where, f"{path} is already used by {other}")
        routes[path] = PushRoute(path, ctx, adapter)
    return list(routes.values())


class Receiver:
    """`with Receiver(...) as r:` serves on r.url until the block ends."""

    def __init__(
        self,
        store: GuestStore,
        hooks: Hooks,
        routes: Sequence[PushRoute],
        settings: ReceiverConfig | None = None,
        config: Config | None = None,
    ) -> None:
        """With `config` (as `crmbridge run` passes it), /healthz also reports each scheduled
        source's freshness and turns 503 when one missed its schedule."""
        self.settings = settings or ReceiverConfig()
        self.config = config
        self.started = datetime.now(UTC)
        self.store = store
        self.routes = list(routes)
        pairs: list[tuple[SourceContext, AdapterType]] = [(r.ctx, r.adapter) for r in self.routes]
        self.processor = Processor(store, hooks, pairs, self.settings.retry_seconds)
        self.app = build_app(
            self.routes,
            hooks,
            max_body_bytes=self.settings.max_body_bytes,
            on_accepted=self.processor.kick,
            health=self._health,
            metrics=lambda: exposition(self.store.engine),
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        host = self.settings.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    def _health(self) -> dict[str, Any]:
        with self.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            fresh = (
                freshness(conn, self.config, datetime.now(UTC), self.started, self.settings.health_grace_s)
                if self.config is not None
                else []
            )
        sources: dict[str, dict[str, Any]] = {f.source: f.as_dict() for f in fresh}
        for r in self.routes:
            inbox = r.ctx.inbox.counts() if r.ctx.inbox else {}
            sources.setdefault(r.ctx.name, {}).update({"path": r.path, "inbox": inbox})
        stale = sorted(f.source for f in fresh if not f.fresh)
        doc: dict[str, Any] = {"sources": sources}
        if stale:
            doc.update(status="unhealthy", stale=stale)
        return doc

    def start(self, timeout: float = 10.0) -> Receiver:
        # Bound here, not inside uvicorn, so a port in use fails in the caller with a clear error
        # and port 0 tells us the port it got.
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so; without it
        # Nagle holds each reply's body behind its headers for a 40 ms delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.settings.host, self.settings.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        s = self.settings
        self.limits = Limits(s.header_timeout_s, s.body_timeout_s, s.max_connections)
        trusted = list(s.trusted_proxies)
        config = uvicorn.Config(
            self.app,
            http=guarded_protocol(self.limits),
            # uvicorn's own lines go through our logging (text or JSON), not its handlers
            log_config=None,
            log_level="warning",
            access_log=False,  # the access log would record client addresses per request only
            lifespan="off",
            timeout_keep_alive=max(1, round(s.idle_timeout_s)),
            timeout_graceful_shutdown=10,
            # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: a local client could
            # then make the logs blame any address. Only the configured proxies are believed.
            proxy_headers=bool(trusted),
            forwarded_allow_ips=trusted or None,
        )
        self._server = uvicorn.Server(config)
        self.processor.start()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="crmbridge-receiver", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the receiver did not start on {self.url}")
            time.sleep(0.01)
        log.info("receiver listening at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop accepting requests, let the ones in flight reply, then finish processing."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
        self.processor.stop()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
