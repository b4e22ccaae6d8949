"""Calling the Taobao Open Platform gateway: system parameters, signing, errors, retries.

TOP answers HTTP 200 for its own errors and puts them in ``error_response``; this client turns
each into a ``TopError`` subclass that says what to do. Rate limits (code 7) and transport
failures are retried with backoff, a bounded number of times; nothing else is retried, since a
wrong signature or session does not fix itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from .signing import SignMethod, sign

GMT8 = timezone(timedelta(hours=8), "GMT+8")
TOP_TIME = "%Y-%m-%d %H:%M:%S"


def top_time(ts: datetime) -> str:
    """A TOP timestamp: ``yyyy-MM-dd HH:mm:ss`` in GMT+8 (the gateway allows ±10 minutes)."""
    return ts.astimezone(GMT8).strftime(TOP_TIME)


def parse_top_time(text: str) -> datetime:
    """A TOP ``yyyy-MM-dd HH:mm:ss`` (always GMT+8) as an aware datetime."""
    return datetime.strptime(text.strip(), TOP_TIME).replace(tzinfo=GMT8)


class TopError(Exception):
    """An ``error_response`` from the gateway. Carries codes and TOP's messages, never params."""

    hint = ""

    def __init__(
        self,
        code: int,
        msg: str,
        sub_code: str = "",
        sub_msg: str = "",
        request_id: str = "",
        method: str = "",
    ):
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg
        self.request_id, self.method = request_id, method
        parts = [f"TOP {method or 'call'} failed: code {code} {msg}"]
        if sub_code:
            parts.append(f"({sub_code}{': ' + sub_msg if sub_msg else ''})")
        if self.hint:
            parts.append(f"- {self.hint}")
        if request_id:
            parts.append(f"[request_id {request_id}]")
        super().__init__(" ".join(parts))


class InvalidSignature(TopError):
    hint = "the gateway refused the request signature: check app_secret and sign_method"


class InvalidSession(TopError):
    hint = "the seller's session_key is missing, expired or revoked: the seller must authorise the app again"


class InvalidAppKey(TopError):
    hint = "the gateway does not know this app_key"


class InvalidTimestamp(TopError):
    hint = "the timestamp is more than 10 minutes off GMT+8: check this machine's clock"


class InvalidArguments(TopError):
    hint = "the gateway refused a parameter"


class RateLimited(TopError):
    hint = "the app's call quota is exhausted; retried with backoff"

    @property
    def ban_seconds(self) -> float | None:
        # TOP says how long the ban lasts: "This ban will last for 3 more seconds".
        m = re.search(r"(\d+(?:\.\d+)?)\s*more\s*second", self.sub_msg or "")
        return float(m.group(1)) if m else None


class GatewayUnavailable(Exception):
    """The gateway answered with an HTTP error or not at all; retried, then raised."""


_ERRORS: dict[int, type[TopError]] = {
    7: RateLimited,
    24: InvalidSignature,
    25: InvalidSignature,
    26: InvalidSession,
    27: InvalidSession,
    28: InvalidAppKey,
    29: InvalidAppKey,
    30: InvalidTimestamp,
    31: InvalidTimestamp,
    40: InvalidArguments,
    41: InvalidArguments,
}


def error_from(body: Mapping[str, Any], method: str = "") -> TopError:
    """The exception for one ``error_response`` object."""
    try:
        code = int(body.get("code", 0))
    except (TypeError, ValueError):
        code = 0
    cls = _ERRORS.get(code, TopError)
    sub_code = str(body.get("sub_code", "") or "")
    if cls is TopError and "limited-by" in sub_code:
        cls = RateLimited
    elif cls is TopError and sub_code.startswith(("isv.invalid-parameter", "isv.missing-parameter")):
        cls = InvalidArguments
    return cls(
        code,
        str(body.get("msg", "")),
        str(body.get("sub_code", "") or ""),
        str(body.get("sub_msg", "") or ""),
        str(body.get("request_id", "") or ""),
        method,
    )


def response_key(method: str) -> str:
    """``taobao.xhotel.order.search`` answers under ``xhotel_order_search_response``."""
    name = method.removeprefix("taobao.")
    return name.replace(".", "_") + "_response"


class TopClient:
    """One app's calls on behalf of one seller session."""

    def __init__(
        self,
        gateway_url: str,
        app_key: str,
        app_secret: str,
        session_key: str | None,
        sign_method: SignMethod = "hmac-sha256",
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_wait: float = 30.0,
        timeout: float = 30.0,
    ):
        self.gateway_url = gateway_url
        self.app_key, self.app_secret, self.session_key = app_key, app_secret, session_key
        self.sign_method: SignMethod = sign_method
        self.http = http or httpx.Client(timeout=timeout)
        self._owns_http = http is None
        self.clock = clock
        self.max_attempts, self.backoff, self.max_wait = max_attempts, backoff, max_wait

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> TopClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def signed_params(self, method: str, params: Mapping[str, Any]) -> dict[str, str]:
        """System and business parameters with their ``sign``; empty values are left out."""
        out = {
            "method": method,
            "app_key": self.app_key,
            "sign_method": self.sign_method,
            "timestamp": top_time(self.clock()),
            "format": "json",
            "v": "2.0",
        }
        if self.session_key:
            out["session"] = self.session_key
        for k, v in params.items():
            if v is None or v == "":
                continue
            out[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
        out["sign"] = sign(out, self.app_secret, self.sign_method)
        return out

    def _wait(self, state: RetryCallState) -> float:
        exp = min(self.max_wait, self.backoff * 2 ** (state.attempt_number - 1))
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.ban_seconds is not None:
            return min(self.max_wait, max(exp, exc.ban_seconds))
        return exp

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The method's response object (``…_response`` unwrapped); raises a ``TopError``."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type((RateLimited, GatewayUnavailable)),
            reraise=True,
        )
        return retrying(self._call_once, method, params or {})

    def _call_once(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        # Signed anew on each attempt: the timestamp must be fresh.
        form = self.signed_params(method, params)
        try:
            resp = self.http.post(
                self.gateway_url,
                data=form,
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            )
        except httpx.TransportError as exc:
            raise GatewayUnavailable(f"TOP gateway unreachable: {type(exc).__name__}") from None
        if resp.status_code >= 500:
            raise GatewayUnavailable(f"TOP gateway answered HTTP {resp.status_code}")
        if resp.status_code != 200:
            raise TopError(resp.status_code, f"HTTP {resp.status_code}", method=method)
        try:
            body = resp.json()
        except ValueError:
            raise GatewayUnavailable("TOP gateway answered with something that is not JSON") from None
        if not isinstance(body, dict):
            raise TopError(0, "unexpected response shape", method=method)
        if "error_response" in body:
            raise error_from(body["error_response"] or {}, method)
        key = response_key(method)
        if key not in body:
            raise TopError(0, f"response has no {key}", method=method)
        return body[key]
