"""Reading OPERA 5: FutureBookingSummary windows, FetchBooking, FetchProfile, Invoice.

OWS has no "changed since", so reservations are found by date windows (arrival or booked
date, `window_days` each) and every summary is hashed: a summary whose hash the cursor
already holds is unchanged, and neither FetchBooking nor FetchProfile is called for it.
A profile is read at most once per run (a guest with five bookings is read once).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from crmbridge.adapters.base import Batch, Reject, SourceContext, validate_into
from crmbridge.models import FolioLine, GuestProfile, Reservation, Stay

from .client import OwsClient
from .config import OwsConfig
from .errors import OwsError
from .mapping import (
    content_hash,
    map_folio_lines,
    map_profile,
    map_reservation,
    map_stay,
    plain,
    profile_id,
    reservation_ids,
    status_of,
)

DATE_TYPES = {"arrival": "ARRIVAL_DATE", "booked": "BOOKED_DATE"}  # the only two the WSDL has


def _raw(obj: Any) -> str:
    return json.dumps(plain(obj), ensure_ascii=False, default=str)


def _uid(value: str) -> dict[str, Any]:
    return {"_value_1": value, "type": "INTERNAL"}


@dataclass
class OwsReader:
    ctx: SourceContext
    client: OwsClient
    _profiles: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    @property
    def cfg(self) -> OwsConfig:
        return self.ctx.settings

    @property
    def hotel_ref(self) -> dict[str, Any]:
        ref: dict[str, Any] = {"_value_1": "", "hotelCode": self.cfg.hotel_code}
        if self.cfg.chain_code:
            ref["chainCode"] = self.cfg.chain_code
        return ref

    @property
    def context(self) -> dict[str, Any]:
        return {"phone_region": self.ctx.phone_region}

    # -- reservations ----------------------------------------------------------------------
    def summaries(self, kind: str, start: date, end: date) -> list[Any]:
        resp = self.client.call(
            "Reservation",
            "FutureBookingSummary",
            QueryDateRange={
                "StartDate": datetime.combine(start, time()),
                "EndDate": datetime.combine(end, time()),
                "dateType": DATE_TYPES[kind],
            },
            AdditionalFilters={"HotelReference": self.hotel_ref},
        )
        return list(getattr(getattr(resp, "HotelReservations", None), "HotelReservation", None) or [])

    def windows(self, kind: str, start: date, end: date) -> Iterator[tuple[date, list[Any]]]:
        """(window start, summaries) for consecutive windows covering [start, end]."""
        ws = start
        while ws <= end:
            we = min(ws + timedelta(days=self.cfg.window_days - 1), end)
            yield ws, self.summaries(kind, ws, we)
            ws = we + timedelta(days=1)

    def booking(self, rid: str) -> Any:
        resp = self.client.call(
            "Reservation", "FetchBooking", HotelReference=self.hotel_ref, ResvNameId=_uid(rid)
        )
        return getattr(resp, "HotelReservation", None)

    def reservations(
        self, summaries: list[Any], hashes: dict[str, Any], cursor_of: Any
    ) -> Batch[Reservation]:
        """The changed reservations among `summaries` (hash not in `hashes`), read in detail;
        `hashes` is updated, and `cursor_of(hashes)` becomes the batch's cursor."""
        batch: Batch[Reservation] = Batch([], None)
        for hr in summaries:
            rid, _ = reservation_ids(hr)
            if not rid:
                batch.rejects.append(Reject("(no id)", "reservation has no RESVID UniqueID", _raw(hr)))
                continue
            digest = content_hash(hr)
            if hashes.get(rid) == digest:
                continue
            detail = self.booking(rid) or hr
            pid = profile_id(detail) or profile_id(hr)
            guest = self.profile(pid) if pid else None
            mapped = map_reservation(detail, source=self.ctx.name, hotel=self.cfg.hotel_code, guest=guest)
            validate_into(Reservation, mapped, _raw(detail), batch, self.context)
            hashes[rid] = digest
        batch.cursor = cursor_of(hashes)
        return batch

    # -- profiles ---------------------------------------------------------------------------
    def profile(self, pid: str, *, fresh: bool = False) -> dict[str, Any] | None:
        if fresh:
            self._profiles.pop(pid, None)
        if pid not in self._profiles:
            try:
                resp = self.client.call("Name", "FetchProfile", NameID=_uid(pid))
            except OwsError as exc:
                if "not found" not in str(exc).lower():
                    raise
                resp = None
            prof = getattr(resp, "ProfileDetails", None) if resp is not None else None
            self._profiles[pid] = (
                map_profile(prof, source=self.ctx.name, profile_id=pid, own_user=self.cfg.username)
                if prof is not None
                else None
            )
        return self._profiles[pid]

    def profiles(self, pids: list[str], cursor: str | None) -> Batch[GuestProfile]:
        batch: Batch[GuestProfile] = Batch([], cursor)
        for pid in pids:
            mapped = self.profile(pid, fresh=True)
            if mapped is not None:
                validate_into(GuestProfile, mapped, _raw({"NameID": pid}), batch, self.context)
        return batch

    # -- stays and folios -------------------------------------------------------------------
    def stays(self, summaries: list[Any], hashes: dict[str, Any], cursor_of: Any) -> Batch[Stay]:
        batch: Batch[Stay] = Batch([], None)
        for hr in summaries:
            rid, _ = reservation_ids(hr)
            if not rid or status_of(hr) not in ("in_house", "checked_out"):
                continue
            digest = content_hash(hr)
            if hashes.get(rid) == digest:
                continue
            detail = self.booking(rid)
            mapped = map_stay(detail or hr, detail, source=self.ctx.name, hotel=self.cfg.hotel_code)
            if mapped is not None:
                validate_into(Stay, mapped, _raw(hr), batch)
            hashes[rid] = digest
        batch.cursor = cursor_of(hashes)
        return batch

    def folios(self, summaries: list[Any], cursor: str | None) -> Batch[FolioLine]:
        batch: Batch[FolioLine] = Batch([], cursor)
        for hr in summaries:
            rid, _ = reservation_ids(hr)
            if not rid or status_of(hr) not in ("in_house", "checked_out"):
                continue  # folios exist only once a guest has checked in
            resp = self.client.call(
                "ResvAdvanced",
                "Invoice",
                ReservationRequest={
                    "HotelReference": self.hotel_ref,
                    "ReservationID": {"UniqueID": [_uid(rid)]},
                },
            )
            invoices = getattr(resp, "Invoice", None)
            for line in map_folio_lines(
                invoices, source=self.ctx.name, hotel=self.cfg.hotel_code, reservation=rid
            ):
                validate_into(FolioLine, line, _raw(line), batch)
        return batch
