"""Simphony BI API client: JSON POSTs under ``/bi/v1/{org}/``, retried when the server wobbles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from .auth import SimphonyAuth

RETRY_STATUSES = {429, 500, 502, 503, 504}


class SimphonyError(Exception):
    """A BI API call failed; the message names the operation, location and HTTP status."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, SimphonyError):
        return exc.status in RETRY_STATUSES
    return isinstance(exc, httpx.TransportError)


@dataclass
class Dimensions:
    """Names for the numbers a guest check carries, for one location."""

    menu_items: dict[int, dict[str, Any]] = field(default_factory=dict)
    tender_media: dict[int, dict[str, Any]] = field(default_factory=dict)
    revenue_centers: dict[int, dict[str, Any]] = field(default_factory=dict)
    discounts: dict[int, dict[str, Any]] = field(default_factory=dict)
    service_charges: dict[int, dict[str, Any]] = field(default_factory=dict)


class SimphonyClient:
    def __init__(
        self,
        base_url: str,
        org: str,
        auth: SimphonyAuth,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        attempts: int = 4,
        max_wait: float = 8.0,
    ):
        self.org = org
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + f"/bi/v1/{org}/",
            auth=auth,
            transport=transport,
            timeout=timeout,
            headers={"Accept": "application/json"},
        )
        self._retry = dict(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.2, max=max_wait),
            reraise=True,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SimphonyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in Retrying(**self._retry):
            with attempt:
                return self._once(operation, body)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        where = f"{operation} for location {body.get('locRef')!r}"
        body = {**body, "applicationName": "crmbridge"}
        r = self.http.post(operation, json=body)
        if r.status_code >= 400:
            try:
                msg = str(r.json().get("message", ""))[:200]
            except ValueError:
                msg = ""
            hint = (
                " (the API account lacks access, or the token was refused)"
                if r.status_code in (401, 403)
                else ""
            )
            raise SimphonyError(f"{where}: HTTP {r.status_code} {msg}{hint}".strip(), r.status_code)
        try:
            data = r.json(parse_float=Decimal)  # amounts stay exact
        except ValueError:
            raise SimphonyError(f"{where}: answer is not JSON", r.status_code) from None
        if not isinstance(data, dict):
            raise SimphonyError(f"{where}: answer is not a JSON object", r.status_code)
        return data

    # -- operations ----------------------------------------------------------------------
    def latest_business_date(self, loc_ref: str) -> tuple[date, str]:
        """(latest business date, the server's current UTC time as it wrote it)."""
        data = self.call("getLatestBusinessDate", {"locRef": loc_ref})
        try:
            return date.fromisoformat(str(data["latestBusDt"])), str(data["curUTC"])
        except (KeyError, ValueError):
            raise SimphonyError(f"getLatestBusinessDate for {loc_ref!r}: no latestBusDt/curUTC") from None

    def guest_checks(self, loc_ref: str, bus_dt: date, changed_since: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"locRef": loc_ref, "busDt": bus_dt.isoformat()}
        if changed_since:
            body["changedSinceUTC"] = changed_since
        data = self.call("getGuestChecks", body)
        if not isinstance(data.get("guestChecks", []), list):
            raise SimphonyError(f"getGuestChecks for {loc_ref!r}: guestChecks is not a list")
        return data

    def dimensions(self, loc_ref: str) -> Dimensions:
        def table(operation: str, key: str) -> dict[int, dict[str, Any]]:
            rows = self.call(operation, {"locRef": loc_ref}).get(key) or []
            out = {}
            for row in rows:
                if isinstance(row, dict) and isinstance(row.get("num"), int):
                    out[row["num"]] = row
            return out

        return Dimensions(
            menu_items=table("getMenuItemDimensions", "menuItems"),
            tender_media=table("getTenderMediaDimensions", "tenderMedias"),
            revenue_centers=table("getRevenueCenterDimensions", "revenueCenters"),
            discounts=table("getDiscountDimensions", "discounts"),
            service_charges=table("getServiceChargeDimensions", "serviceCharges"),
        )
