"""The OHIP transport: headers, token, retries with backoff and jitter, RFC 7807 errors.

Every business call sends `authorization`, `x-app-key`, `x-hotelid` and an `x-request-id`
(one per logical call, kept across its retries so OPERA's logs can join them). Timeouts,
connection errors, 429 and 5xx are retried with exponential backoff plus jitter, honouring
`Retry-After`, up to `max_attempts`; then `OperaUnavailable` says what failed. A 401 renews
the token once and resends. A write (POST/PUT) is never blindly resent once it may have
reached OPERA: a timeout after sending becomes `UncertainOutcome`, and the caller reads back.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from .budget import RequestBudget
from .config import OperaConfig
from .errors import OperaApiError, OperaUnavailable, UncertainOutcome, problem_code, problem_message
from .oauth import TokenManager

log = logging.getLogger("crmbridge_opera.client")

# Backoff between attempts: exponential from BACKOFF_INITIAL_S up to BACKOFF_MAX_S, plus up to
# BACKOFF_INITIAL_S of random jitter so many workers do not retry in step. Tests shrink these.
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 30.0
RETRY_AFTER_CAP_S = 120.0
USER_AGENT = "crmbridge-opera/0.1"


class _Retryable(Exception):
    """A response worth another attempt (429 or 5xx)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, min(float(raw), RETRY_AFTER_CAP_S))
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


def _may_have_arrived(exc: Exception) -> bool:
    """True when a failed request may still have been received and applied by OPERA."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


class OperaClient:
    """One hotel's OHIP gateway. Not tied to a store; safe to share between threads."""

    def __init__(
        self,
        cfg: OperaConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_initial: float | None = None,
        backoff_max: float | None = None,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        budget: RequestBudget | None = None,
    ) -> None:
        self.cfg = cfg
        self.budget = budget or RequestBudget(cfg.max_requests_per_second)
        self.http = httpx.Client(
            transport=transport, timeout=cfg.timeout_s, headers={"user-agent": USER_AGENT}
        )
        self.tokens = TokenManager(cfg, self.http, clock, before_request=self.budget.acquire)
        self.sleep = sleep
        self.backoff_initial = BACKOFF_INITIAL_S if backoff_initial is None else backoff_initial
        self.backoff_max = BACKOFF_MAX_S if backoff_max is None else backoff_max
        self.log = logger or log

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> OperaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one way to call OPERA ----------------------------------------------------------
    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one business call; return the 2xx response or raise an `OperaError`."""
        idempotent = method == "GET" if idempotent is None else idempotent
        request_id = str(uuid.uuid4())
        exp = wait_exponential(multiplier=self.backoff_initial, max=self.backoff_max)
        jitter = wait_random(0, self.backoff_initial)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return exc.retry_after
            return exp(state) + jitter(state)

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, _Retryable):
                return True
            if isinstance(exc, httpx.TransportError):
                return idempotent or not _may_have_arrived(exc)
            return False

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self.log.warning(
                "OPERA %s attempt %d/%d failed (%s); retrying in %.1fs",
                operation, state.attempt_number, self.cfg.max_attempts, _describe(exc),
                state.next_action.sleep if state.next_action else 0.0,
            )  # fmt: skip

        retrying = Retrying(
            stop=stop_after_attempt(self.cfg.max_attempts),
            wait=wait,
            retry=retry_if_exception(retryable),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=False,
        )
        try:
            return retrying(self._attempt, operation, method, path, params, body, request_id, idempotent)
        except httpx.TransportError as exc:  # not retried: a write that may have arrived
            raise UncertainOutcome(
                f"OPERA {operation}: no answer after sending ({_describe(exc)}); it may have been applied"
            ) from None
        except RetryError as err:
            last = err.last_attempt.exception()
            raise OperaUnavailable(
                f"OPERA {operation} failed after {err.last_attempt.attempt_number} attempts "
                f"(last: {_describe(last)}); check that {self.cfg.base_url} is reachable, "
                f"raise `timeout_s` or `max_attempts`, or try again later"
            ) from None

    def _attempt(
        self,
        operation: str,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        request_id: str,
        idempotent: bool,
    ) -> httpx.Response:
        renewed = False
        while True:
            token = self.tokens.get()
            headers = {
                "authorization": f"Bearer {token}",
                "x-app-key": self.cfg.app_key.get_secret_value(),
                "x-hotelid": self.cfg.hotel_id,
                "x-request-id": request_id,
            }
            self.budget.acquire()
            started = time.monotonic()
            resp = self.http.request(
                method, self.cfg.base_url + path, params=params, json=body, headers=headers
            )
            self.log.debug(
                "OPERA %s %s -> %d in %.0f ms (request %s)",
                operation, method, resp.status_code, (time.monotonic() - started) * 1000, request_id,
            )  # fmt: skip
            if resp.status_code == 401 and not renewed:
                # Tokens can be revoked or expire early: renew once, then give up.
                self.tokens.invalidate(token)
                renewed = True
                self.log.info("OPERA %s: token refused, renewing it once", operation)
                continue
            break
        status = resp.status_code
        if 200 <= status < 300:
            self._log_warnings(operation, resp)
            return resp
        if status == 429 or status >= 500:
            if not idempotent and status not in (429, 503):
                # 500/502/504 on a write: OPERA may have applied it before failing.
                raise UncertainOutcome(
                    f"OPERA {operation}: {problem_message(resp)}; it may have been applied"
                )
            raise _Retryable(problem_message(resp), _retry_after(resp))
        raise OperaApiError(operation, status, problem_message(resp), problem_code(resp))

    def _log_warnings(self, operation: str, resp: httpx.Response) -> None:
        if not resp.content or "json" not in resp.headers.get("content-type", ""):
            return
        try:
            body = resp.json()
        except ValueError:
            return
        warnings = body.get("warnings") if isinstance(body, dict) else None
        for w in warnings or ():
            if isinstance(w, dict):
                # Codes and short texts only: OPERA's `value` may echo the record's data.
                code = str(w.get("code") or w.get("type") or "-")[:40]
                self.log.warning(
                    "OPERA %s warning %s: %s", operation, code, str(w.get("shortText") or "")[:200]
                )

    # -- conveniences -----------------------------------------------------------------------
    def get_json(self, operation: str, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET returning the JSON body; `{}` for 204 (OPERA's "nothing found")."""
        resp = self.call(operation, "GET", path, params=params)
        if resp.status_code == 204 or not resp.content:
            return {}
        # Amounts must stay exact: JSON numbers become Decimal, never float.
        data = json.loads(resp.content, parse_float=Decimal)
        return data if isinstance(data, dict) else {}


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no error"
    if isinstance(exc, httpx.TransportError):
        return type(exc).__name__
    return str(exc) or type(exc).__name__
