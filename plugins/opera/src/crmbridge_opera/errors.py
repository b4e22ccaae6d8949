"""Errors that say what failed and what to check. They never carry guest data or secrets."""

from __future__ import annotations

import httpx

# What to check, by HTTP status, when OPERA refuses a business call.
HINTS = {
    400: "the request was refused as invalid; check the configured codes (hotel_id, alert_code)",
    401: "the token was refused; check client_id, client_secret and app_key",
    403: "the integration lacks a privilege; check the OHIP application's access to this hotel",
    404: "OPERA does not know this record or path; check hotel_id and the record id",
    429: "OHIP is throttling; lower the sync frequency or page_size",
}


class OperaError(Exception):
    """Base of every error the OPERA adapter raises."""


class OperaAuthError(OperaError):
    """The token could not be obtained."""


class OperaApiError(OperaError):
    """OPERA answered a business call with an error (RFC 7807 body when it sent one)."""

    def __init__(self, operation: str, status: int, message: str, code: str | None = None) -> None:
        self.operation, self.status, self.code = operation, status, code
        hint = HINTS.get(status) or ("OPERA or its gateway failed; try again later" if status >= 500 else "")
        super().__init__(f"OPERA {operation} failed: {message}" + (f"; {hint}" if hint else ""))


class OperaUnavailable(OperaError):
    """Every attempt failed with a timeout, a connection error, 429 or 5xx."""


class UncertainOutcome(OperaError):
    """A write was sent but no answer came back: OPERA may or may not have applied it."""


def problem_message(resp: httpx.Response) -> str:
    """`status title: detail (o:errorCode)` from an RFC 7807 body, or the status line alone."""
    parts = [str(resp.status_code)]
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        title, detail, code = body.get("title"), body.get("detail"), body.get("o:errorCode")
        if title:
            parts.append(str(title)[:200])
        msg = " ".join(parts)
        if detail and detail != title:
            msg += f": {str(detail)[:500]}"
        if code:
            msg += f" (o:errorCode {str(code)[:50]})"
        return msg
    return " ".join([*parts, resp.reason_phrase or ""]).strip()


def problem_code(resp: httpx.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return str(body.get("o:errorCode")) if isinstance(body, dict) and body.get("o:errorCode") else None
