"""The Starlette application of the staff API. Handlers are plain functions (Starlette runs
them in its thread pool): the store is synchronous SQLAlchemy."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..access.service import Access, AccessError, SegmentOf
from ..access.staff import Actor, authenticate
from ..store.guest_store import GuestStore
from .openapi import document

Arrivals = Callable[[date], list[dict[str, Any]]]  # ArrivalPlan.as_dict() rows of one day


def _error(status: int, error: str, detail: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="crmbridge"'} if status == 401 else None
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _json(obj: Any, status: int = 200) -> Response:
    body = json.dumps(obj, ensure_ascii=False, default=str)
    return Response(body, status_code=status, media_type="application/json")


_NAMES = {400: "bad_request", 403: "forbidden", 404: "not_found"}


def build_app(
    store: GuestStore,
    *,
    trust: Mapping[str, int] | None = None,
    segment_of: SegmentOf | None = None,
    arrivals: Arrivals | None = None,
    today: Callable[[], date] = date.today,
) -> Starlette:
    def actor_of(request: Request) -> Actor | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        # looked up on every request: a revoked token fails on the next one
        with store.engine.connect() as conn:
            return authenticate(conn, token.strip())

    def guarded(handler: Callable[..., Response]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            if not request.headers.get("authorization"):
                return _error(
                    401, "unauthorized", "send `Authorization: Bearer <token>` (crmbridge staff token NAME)"
                )
            actor = await run_in_threadpool(actor_of, request)
            if actor is None:
                return _error(
                    401, "unauthorized", "this token is unknown or was revoked: ask an admin for a new one"
                )
            args: list[Any] = [request, Access(store, actor, trust, segment_of)]
            if request.method == "POST":
                try:
                    args.append(await request.json())
                except ValueError:
                    return _error(400, "bad_request", "the body must be JSON")
            try:
                return await run_in_threadpool(handler, *args)
            except AccessError as exc:
                return _error(exc.status, _NAMES.get(exc.status, "error"), str(exc))

        return endpoint

    def me(request: Request, acc: Access) -> Response:
        r = acc.actor.role
        return _json(
            {"name": acc.actor.name, "role": r.name, "fields": sorted(r.fields), "actions": sorted(r.actions)}
        )

    def search(request: Request, acc: Access) -> Response:
        return _json(acc.search(request.query_params.get("q", "")))

    def profile(request: Request, acc: Access) -> Response:
        unmask = request.query_params.get("unmask", "").lower() in ("1", "true", "yes")
        reason = request.query_params.get("reason")
        return _json(acc.profile(request.path_params["guest_id"], unmask=unmask, reason=reason))

    def consent(request: Request, acc: Access, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("granted"), bool):
            return _error(400, "bad_request", "give purpose, granted (true/false) and wording_version")
        res = acc.record_consent(
            request.path_params["guest_id"],
            str(body.get("purpose", "")),
            body["granted"],
            str(body.get("wording_version", "")),
        )
        return _json(res, 201)

    def reviews(request: Request, acc: Access) -> Response:
        return _json(acc.review_queue())

    def arrivals_of(request: Request, acc: Access) -> Response:
        raw = request.query_params.get("date")
        try:
            day = date.fromisoformat(raw) if raw else today() + timedelta(days=1)
        except ValueError:
            return _error(400, "bad_request", "date must be YYYY-MM-DD")
        acc.require("arrivals.read")
        plans = arrivals(day) if arrivals else []
        return _json(acc.arrivals(plans))

    def openapi(request: Request) -> Response:
        return _json(document())

    return Starlette(
        routes=[
            Route("/api/v1/openapi.json", openapi),
            Route("/api/v1/me", guarded(me)),
            Route("/api/v1/guests", guarded(search)),
            Route("/api/v1/guests/{guest_id}", guarded(profile)),
            Route("/api/v1/guests/{guest_id}/consents", guarded(consent), methods=["POST"]),
            Route("/api/v1/reviews", guarded(reviews)),
            Route("/api/v1/arrivals", guarded(arrivals_of)),
        ]
    )
