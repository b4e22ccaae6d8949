"""The ASGI app: one POST route per push source, a body size limit, and a health check."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..adapters.base import AdapterType, PushRequest, SourceContext
from ..plugins import Hooks

log = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus text format


@dataclass(frozen=True)
class PushRoute:
    path: str
    ctx: SourceContext
    adapter: AdapterType


def _peer(request: Request) -> str:
    return f"{request.client.host}:{request.client.port}" if request.client else ""


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing one larger than `limit` before it is all read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():  # chunked uploads have no content-length
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def build_app(
    routes: Sequence[PushRoute],
    hooks: Hooks,
    *,
    max_body_bytes: int,
    on_accepted: Callable[[str], None],
    health: Callable[[], dict[str, Any]],
    metrics: Callable[[], bytes] | None = None,
) -> Starlette:
    """`on_accepted(source name)` runs after a reply that committed inbox messages;
    `health()` returns the /healthz document and raises when the store is unreachable."""

    def endpoint(route: PushRoute) -> Callable[[Request], Any]:
        async def receive(request: Request) -> Response:
            try:
                body = await read_limited(request, max_body_bytes)
            except ClientDisconnect:
                # Routine on the internet (and what a body timeout does): one line, no traceback.
                log.info(
                    "source %s: the client %s went away before its request was read",
                    route.ctx.name,
                    _peer(request),
                )
                return Response(status_code=400)
            except BodyTooLarge:
                log.warning("source %s: refused a body over %d bytes", route.ctx.name, max_body_bytes)
                return PlainTextResponse("request body too large", status_code=413)
            client = _peer(request)
            push = PushRequest(
                method=request.method,
                path=request.url.path,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                client=client,
            )
            try:
                # The hook commits to the database: keep that off the event loop.
                reply = await run_in_threadpool(hooks.receive, route.ctx, push)
            except Exception as exc:
                # Type only: an exception message could quote the guest data in the body.
                log.error("source %s: receive hook failed: %s", route.ctx.name, type(exc).__name__)
                return PlainTextResponse("internal error", status_code=500)
            if reply.accepted:
                on_accepted(route.ctx.name)
            return Response(
                reply.body, status_code=reply.status, headers={"content-type": reply.content_type}
            )

        return receive

    async def healthz(request: Request) -> Response:
        try:
            doc = await run_in_threadpool(health)
        except Exception as exc:
            log.error("health check failed: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "error": type(exc).__name__}, status_code=503)
        doc = {"status": "ok", **doc}  # `health()` says "unhealthy" when a source is stale
        return JSONResponse(doc, status_code=200 if doc["status"] == "ok" else 503)

    async def metrics_page(request: Request) -> Response:
        assert metrics is not None
        try:
            page = await run_in_threadpool(metrics)
        except Exception as exc:
            log.error("metrics failed: %s", type(exc).__name__)
            return PlainTextResponse("store unavailable", status_code=503)
        return Response(page, headers={"content-type": METRICS_CONTENT_TYPE})

    table = [Route(HEALTH_PATH, healthz, methods=["GET"])]
    if metrics is not None:
        table.append(Route(METRICS_PATH, metrics_page, methods=["GET"]))
    table += [Route(r.path, endpoint(r), methods=["POST"], name=r.ctx.name) for r in routes]
    return Starlette(routes=table)
