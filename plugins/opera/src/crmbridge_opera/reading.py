"""Reading OPERA: date windows of reservations page by page, profiles and folios.

`getHotelReservations` is walked with `limit`/`offset` until `hasMore` is false, one date
window at a time, so a cursor `{window start, offset}` is enough to resume a backfill. Each
reservation's guest comes from `getProfile` (cached for the run: a guest with five bookings
is read once).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from crmbridge.api import (
    Batch,
    FolioLine,
    GuestProfile,
    Reject,
    Reservation,
    SourceContext,
    Stay,
    validate_into,
)

from .client import OperaClient
from .errors import OperaApiError
from .mapping import (
    OWNED_PREFERENCE,
    map_folio_lines,
    map_profile,
    map_reservation,
    map_stay,
    profile_id,
    reservation_id,
)

WINDOW_DAYS = 7
MAX_PAGES_PER_WINDOW = 2000  # a runaway `hasMore` must not loop forever
PROFILE_FETCH = ["Address", "Communication", "Preference", "Membership", "Comment", "Profile"]


def _raw(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def content_hash(info: dict[str, Any]) -> str:
    """A stable hash of a reservation summary: equal content, equal hash."""
    raw = json.dumps(info, ensure_ascii=False, default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def remember(infos: list[dict[str, Any]], hashes: dict[str, str], since: date) -> None:
    """Record the hashes of the reservations arriving from `since` on (the ones the next
    incremental run re-reads), so that run skips those still unchanged."""
    for info in infos:
        rid, arrival = reservation_id(info), (info.get("roomStay") or {}).get("arrivalDate")
        if rid and arrival and str(arrival) >= since.isoformat():
            hashes[rid] = content_hash(info)


@dataclass
class Window:
    """Where a windowed walk stands: the window's first day and the next offset in it."""

    start: date
    offset: int = 0


@dataclass
class Reader:
    ctx: SourceContext
    client: OperaClient
    _profiles: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _owned: dict[str, set[str]] | None = None

    @property
    def hotel(self) -> str:
        return self.ctx.settings.hotel_id

    @property
    def context(self) -> dict[str, Any]:
        return {"phone_region": self.ctx.phone_region}

    # -- reservations ----------------------------------------------------------------------
    def search(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        body = self.client.get_json(
            "getHotelReservations", f"/rsv/v1/hotels/{self.hotel}/reservations", params
        )
        block = body.get("reservations") or {}
        infos = [i for i in block.get("reservationInfo") or () if isinstance(i, dict)]
        return infos, bool(block.get("hasMore"))

    def walk(
        self, field_name: str, start: Window, end: date, extra: dict[str, Any] | None = None
    ) -> Iterator[tuple[list[dict[str, Any]], Window | None]]:
        """Pages of reservations whose `field_name` date (arrival/departure) lies in
        [start, end], window by window; each page comes with where to resume after it
        (None once the last window is done)."""
        size = self.ctx.settings.page_size
        ws, offset = start.start, start.offset
        while ws <= end:
            we = min(ws + timedelta(days=WINDOW_DAYS - 1), end)
            for _ in range(MAX_PAGES_PER_WINDOW):
                params = {
                    f"{field_name}StartDate": ws.isoformat(),
                    f"{field_name}EndDate": we.isoformat(),
                    "limit": size,
                    "offset": offset,
                    **(extra or {}),
                }
                infos, more = self.search(params)
                offset += len(infos)
                if more and infos:
                    yield infos, Window(ws, offset)
                    continue
                nxt = we + timedelta(days=1)
                yield infos, (Window(nxt) if nxt <= end else None)
                break
            else:
                raise RuntimeError(
                    f"getHotelReservations kept saying hasMore after {MAX_PAGES_PER_WINDOW} pages"
                )
            ws, offset = we + timedelta(days=1), 0

    def reread(self, reservation: str) -> dict[str, Any] | None:
        infos, _ = self.search({"reservationIdList": [reservation], "limit": 1})
        return infos[0] if infos else None

    def reservations(
        self, infos: list[dict[str, Any]], cursor: str | None, hashes: dict[str, str] | None = None
    ) -> Batch[Reservation]:
        """Map `infos` with their guests. With `hashes`, a reservation whose content hash is
        there already is skipped (unchanged: no getProfile), and new hashes are recorded."""
        batch: Batch[Reservation] = Batch([], cursor)
        for info in infos:
            rid = reservation_id(info)
            if not rid:
                batch.rejects.append(Reject("(no id)", "reservation has no reservationIdList id", _raw(info)))
                continue
            if hashes is not None:
                digest = content_hash(info)
                if hashes.get(rid) == digest:
                    continue
                hashes[rid] = digest
            pid = profile_id(info)
            guest = self.profile(pid) if pid else None
            mapped = map_reservation(info, source=self.ctx.name, hotel=self.hotel, guest=guest)
            validate_into(Reservation, mapped, _raw(info), batch, self.context)
        return batch

    # -- profiles ---------------------------------------------------------------------------
    def profile_json(self, pid: str) -> dict[str, Any]:
        return self.client.get_json(
            "getProfile",
            f"/crm/v1/profiles/{pid}",
            {"fetchInstructions": PROFILE_FETCH, "hotelId": self.hotel},
        )

    def profile(self, pid: str) -> dict[str, Any] | None:
        """The mapped guest profile (a canonical dict), or None if OPERA has none."""
        if pid not in self._profiles:
            try:
                body = self.profile_json(pid)
            except OperaApiError as exc:
                if exc.status != 404:
                    raise
                body = {}
            mapped = map_profile(body, source=self.ctx.name, profile_id=pid) if body else None
            if mapped is not None and mapped.get("preferences"):
                # What crmbridge wrote back is not evidence about the guest: leave it out.
                owned = self.owned_preferences().get(pid, set())
                mapped["preferences"] = [
                    p for p in mapped["preferences"] if f"{p['category']}:{p['code']}" not in owned
                ]
            self._profiles[pid] = mapped
        return self._profiles[pid]

    def owned_preferences(self) -> dict[str, set[str]]:
        """Per profile, the `group:code` preferences crmbridge created (from the push ledger)."""
        if self._owned is None:
            self._owned = {}
            ledger = self.ctx.ledger
            for e in ledger.entries("sent") if ledger is not None else ():
                if e.target == "profile" and e.external_id and e.external_id.startswith(OWNED_PREFERENCE):
                    self._owned.setdefault(e.pms_id, set()).add(e.external_id.removeprefix(OWNED_PREFERENCE))
        return self._owned

    def profiles(self, pids: list[str], cursor: str | None, ack: list[int]) -> Batch[GuestProfile]:
        batch: Batch[GuestProfile] = Batch([], cursor, ack=ack)
        for pid in pids:
            self._profiles.pop(pid, None)  # an event says it changed: read it again
            mapped = self.profile(pid)
            if mapped is not None:
                validate_into(GuestProfile, mapped, _raw({"profileId": pid}), batch, self.context)
        return batch

    # -- stays and folios -------------------------------------------------------------------
    def stays(self, infos: list[dict[str, Any]], cursor: str | None) -> Batch[Stay]:
        batch: Batch[Stay] = Batch([], cursor)
        for info in infos:
            mapped = map_stay(info, source=self.ctx.name, hotel=self.hotel)
            if mapped is not None:
                validate_into(Stay, mapped, _raw(info), batch)
        return batch

    def folios(self, infos: list[dict[str, Any]], cursor: str | None) -> Batch[FolioLine]:
        batch: Batch[FolioLine] = Batch([], cursor)
        for info in infos:
            rid = reservation_id(info)
            if not rid or map_stay(info, source=self.ctx.name, hotel=self.hotel) is None:
                continue  # folios exist only once a guest has checked in
            body = self.client.get_json(
                "getFolio",
                f"/csh/v1/hotels/{self.hotel}/reservations/{rid}/folios",
                {"fetchInstructions": ["Postings"]},
            )
            for line in map_folio_lines(body, source=self.ctx.name, hotel=self.hotel, reservation=rid):
                validate_into(FolioLine, line, _raw(line), batch)
        return batch
