"""A loopback OHIP server: OAuth, reservations, profiles, folios, business events, alerts.

It speaks the real paths and JSON shapes of Oracle's OHIP specs, serves invented data, and
can be told to misbehave (429 with Retry-After, 5xx, slow answers, answers that never come
after the write was applied, expired tokens). It refuses, with an RFC 7807 body, every
request that does not conform to the OHIP contract the plugin ships (unknown path, missing
required header or parameter, invalid body), and records it. It runs in a thread on 127.0.0.1, port 0.

Standalone, for hotel IT to try a config: `python -m crmbridge_opera.simulator [--port N]`
(default 8091, so the printed config keeps working across restarts) prints a
`[sources.opera]` table pointing at it.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import itertools
import json
import random
import re
import secrets
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crmbridge.synthetic import demo_room_charges
from crmbridge.testing.server import LoopbackServer, QuietHandler

from .conformance import OhipSpec, SpecViolation, load_spec
from .simdata import make_folio, make_profile, make_reservation, restaurant_posting

MAX_BODY = 1 << 20
DEMO_APP_KEY = "0b8e3c2a-5f1d-4c7e-9a2b-6d4f8e1c3a57"


@dataclass
class Fault:
    """What the next matching requests get instead of a normal answer."""

    status: int | None = None  # answer this status without doing anything
    retry_after: float | None = None
    delay: float = 0.0  # sleep this long first (a slow gateway)
    after: bool = False  # do the work, then sleep `delay` before answering (lost answer)
    operation: str | None = None  # only for this operationId (None: any business call)
    times: int = 1


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    operation: str | None = None
    status: int = 0
    violation: str | None = None
    at: float = field(default_factory=time.monotonic)  # arrival time, to measure request rates


@dataclass
class State:
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    folios: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: deque[dict[str, Any]] = field(default_factory=deque)


def _problem(status: int, title: str, detail: str = "", code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": f"https://httpstatuses.com/{status}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if code:
        body["o:errorCode"] = code
    return body


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


class OhipSimulator:
    """Construct (binds the port), then use as a context manager or call start()/stop()."""

    def __init__(
        self,
        *,
        hotel: str = "SHA01",
        external_system: str = "CRMBRIDGE",
        client_id: str = "crmbridge-client",
        client_secret: str = "sim-secret",
        app_key: str = DEMO_APP_KEY,
        username: str | None = None,
        password: str | None = None,
        token_ttl: int = 3600,
        validate: bool = True,
        port: int = 0,
    ) -> None:
        self.hotel, self.external_system = hotel, external_system
        self.client_id, self.client_secret, self.app_key = client_id, client_secret, app_key
        self.username, self.password = username, password
        self.token_ttl = token_ttl
        self.spec: OhipSpec | None = load_spec() if validate else None
        self.state = State()
        self.tokens: dict[str, float] = {}
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.tokens_issued = 0
        self._ids = itertools.count(900001)
        self._lock = threading.RLock()
        self._http = LoopbackServer(_Handler, owner=self, port=port, name="ohip-simulator")

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._http.url

    def start(self) -> OhipSimulator:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> OhipSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data ----------------------------------------------------------------------------------
    def populate(
        self, n: int, *, first_arrival: date, days: int, seed: int = 7, today: date | None = None
    ) -> None:
        """`n` invented reservations arriving over `days` days; about one guest in five returns."""
        rng = random.Random(seed)
        today = today or datetime.now(UTC).date()
        with self._lock:
            pids: list[str] = []
            for i in range(n):
                if pids and rng.random() < 0.2:
                    pid = rng.choice(pids)
                else:
                    pid = str(100000 + len(self.state.profiles) + 1)
                    self.state.profiles[pid] = make_profile(rng, i, pid, today - timedelta(days=3))
                    pids.append(pid)
                rid, conf = str(500000 + len(self.state.reservations) + 1), str(8100000 + i)
                arrival = first_arrival + timedelta(days=rng.randrange(max(days, 1)))
                info = make_reservation(rng, rid, conf, self.state.profiles[pid], arrival, today, self.hotel)
                self.state.reservations[rid] = info
                if info["reservationStatus"] in ("InHouse", "CheckedOut"):
                    self.state.folios[rid] = make_folio(rng, info)

    def post_room_charges(self, charges: list[Any]) -> list[str]:
        """Put a guest in house in each charge's room and post the charge to their folio.

        What a POS interface does in a hotel: the check number goes in the posting's
        reference. Each charge (``crmbridge.synthetic.RoomCharge``) takes a reservation of its
        own; returns their ids."""
        used: list[str] = []
        with self._lock:
            for c in charges:
                for rid, info in sorted(self.state.reservations.items()):
                    stay = info["roomStay"]
                    if rid in used or rid not in self.state.folios:
                        continue
                    if (
                        not date.fromisoformat(stay["arrivalDate"])
                        <= c.business_date
                        < date.fromisoformat(stay["departureDate"])
                    ):
                        continue
                    stay["roomId"] = c.room
                    window = self.state.folios[rid]["reservationFolioInformation"]["folioWindows"][0]
                    postings = window["folios"][0]["postings"]
                    postings.append(
                        restaurant_posting(len(postings) + 1, c.business_date, c.amount, c.check_number)
                    )
                    used.append(rid)
                    break
        return used

    def add_event(self, module: str, primary_key: str, action: str = "UPDATE") -> None:
        with self._lock:
            n = next(self._ids)
            self.state.events.append(
                {
                    "businessEventId": {"id": str(n), "type": "BusinessEvent"},
                    "businessEvent": {
                        "header": {
                            "moduleName": module,
                            "actionType": action,
                            "actionId": n,
                            "primaryKey": primary_key,
                            "hotelId": self.hotel,
                            "createdDateTime": datetime.now(UTC).isoformat(),
                        },
                        "details": [{"dataElement": "Changed", "oldValue": "", "newValue": ""}],
                    },
                }
            )

    def change_reservation(self, rid: str, **room_stay: Any) -> None:
        """Edit a reservation at the "front desk" and queue its business event."""
        with self._lock:
            info = self.state.reservations[rid]
            info["roomStay"].update(room_stay)
            info["lastModifyDateTime"] = datetime.now(UTC).isoformat()
        self.add_event("Reservation", rid)

    def fault(self, status: int | None = None, **kw: Any) -> None:
        with self._lock:
            self.faults.append(Fault(status=status, **kw))

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    def alerts_of(self, rid: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(a) for a in self.state.alerts.get(rid, [])]

    def violations(self) -> list[Recorded]:
        return [r for r in self.requests if r.violation]

    def max_rate(self, window: float = 1.0) -> int:
        """The most requests that arrived within any `window` seconds (half-open)."""
        times = sorted(r.at for r in self.requests)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    # -- request handling ----------------------------------------------------------------------
    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        rec = Recorded(method, parts.path, parts.query, headers, body)
        with self._lock:
            self.requests.append(rec)
        try:
            if self.spec is not None:
                try:
                    rec.operation = self.spec.validate(
                        method, parts.path, parts.query, headers, body
                    ).operation_id
                except SpecViolation as exc:
                    rec.violation = str(exc)
                    status = 404 if exc.operation is None else 400
                    raise _Reply(
                        status,
                        _problem(
                            status,
                            "Request does not conform to the OHIP specification",
                            "; ".join(exc.problems)[:1500],
                            "SIM-SPEC",
                        ),
                    ) from None
            route, params = self._route(method, parts.path)
            rec.operation = rec.operation or route[0]
            fault = self._take_fault(route[0])
            if fault is not None and not fault.after:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.status:
                    hdrs = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                    raise _Reply(
                        fault.status,
                        _problem(fault.status, "Simulated fault", "switched on by the test"),
                        hdrs,
                    )
            if route[0] != "getToken":
                self._authorise(headers)
            status, out, hdrs = route[1](self, params, parse_qs(parts.query), headers, body)
            if fault is not None and fault.after:
                time.sleep(fault.delay)  # the work is done; the answer arrives too late
        except _Reply as r:
            status, out, hdrs = r.status, r.body, r.headers
        rec.status = status
        return status, out, hdrs

    def _take_fault(self, operation: str) -> Fault | None:
        if operation == "getToken":
            return None
        with self._lock:
            for f in self.faults:
                if f.times > 0 and f.operation in (None, operation):
                    f.times -= 1
                    return f
        return None

    def _route(self, method: str, path: str) -> tuple[tuple[str, Any], dict[str, str]]:
        for m, rx, name, fn in ROUTES:
            if m == method and (match := rx.match(path)):
                return (name, fn), match.groupdict()
        raise _Reply(404, _problem(404, "Not Found", "the simulator has no such resource"))

    def _authorise(self, headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self._lock:
            expiry = self.tokens.get(token)
        if expiry is None or expiry < time.monotonic():
            raise _Reply(401, None)
        if not hmac.compare_digest(headers.get("x-app-key", ""), self.app_key):
            raise _Reply(401, None)
        if headers.get("x-hotelid") != self.hotel:
            raise _Reply(403, _problem(403, "Forbidden", "the application has no access to this hotel"))

    def _hotel(self, params: dict[str, str]) -> None:
        if params.get("hotelId", self.hotel) != self.hotel:
            raise _Reply(404, _problem(404, "Hotel not found", "", "HOTEL_NOT_FOUND"))

    # -- operations ----------------------------------------------------------------------------
    def get_token(
        self, params: dict[str, str], q: Any, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        form = parse_qs(body.decode())
        basic = headers.get("authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if not hmac.compare_digest(basic, f"Basic {expected}") or headers.get("x-app-key") != self.app_key:
            return 401, _problem(401, "Unauthorized", "invalid client credentials"), {}
        grant = form.get("grant_type", [""])[0]
        if grant == "password" and (
            form.get("username", [""])[0] != self.username or form.get("password", [""])[0] != self.password
        ):
            return 401, _problem(401, "Unauthorized", "invalid user credentials"), {}
        if grant == "client_credentials" and not form.get("scope"):
            return 400, _problem(400, "Bad Request", "scope is required for client_credentials"), {}
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
            self.tokens_issued += 1
        return 200, {"access_token": token, "expires_in": self.token_ttl, "token_type": "Bearer"}, {}

    def get_reservations(
        self, params: dict[str, str], q: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        self._hotel(params)

        def d(name: str) -> date | None:
            return date.fromisoformat(q[name][0]) if name in q else None

        a0, a1, d0, d1 = (
            d("arrivalStartDate"),
            d("arrivalEndDate"),
            d("departureStartDate"),
            d("departureEndDate"),
        )
        ids = set(q.get("reservationIdList", []))
        statuses = set(q.get("reservationStatuses", []))
        limit = min(int(q.get("limit", ["20"])[0]), 200)
        offset = int(q.get("offset", ["0"])[0])
        with self._lock:
            rows = []
            for rid, info in self.state.reservations.items():
                arr = date.fromisoformat(info["roomStay"]["arrivalDate"])
                dep = date.fromisoformat(info["roomStay"]["departureDate"])
                if (ids and rid not in ids) or (a0 and arr < a0) or (a1 and arr > a1):
                    continue
                if (d0 and dep < d0) or (d1 and dep > d1):
                    continue
                if statuses and info["reservationStatus"] not in statuses:
                    continue
                rows.append(info)
            rows.sort(key=lambda i: (i["roomStay"]["arrivalDate"], i["reservationIdList"][0]["id"]))
            page = json.loads(json.dumps(rows[offset : offset + limit], default=_num))
        if not rows:
            return 204, None, {}
        block = {
            "reservationInfo": page,
            "totalResults": len(rows),
            "count": len(page),
            "offset": offset,
            "limit": limit,
            "hasMore": offset + len(page) < len(rows),
            "totalPages": -(-len(rows) // limit),
        }
        return 200, {"reservations": block, "links": []}, {}

    def get_profile(
        self, params: dict[str, str], q: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            prof = self.state.profiles.get(params["profileId"])
            if prof is None:
                raise _Reply(404, _problem(404, "Profile not found", "", "PROFILE_NOT_FOUND"))
            prof = json.loads(json.dumps(prof, default=_num))
        wanted = set(q.get("fetchInstructions", []))
        sections = {
            "Address": ["addresses"],
            "Communication": ["telephones", "emails"],
            "Preference": ["preferenceCollection"],
            "Membership": ["profileMemberships"],
            "Comment": ["comments"],
        }
        det = prof["profileDetails"]
        for instr, keys in sections.items():
            if instr not in wanted:
                for k in keys:
                    det.pop(k, None)
        return 200, prof, {}

    def put_profile(
        self, params: dict[str, str], q: Any, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        doc = json.loads(body)
        with self._lock:
            prof = self.state.profiles.get(params["profileId"])
            if prof is None:
                raise _Reply(404, _problem(404, "Profile not found", "", "PROFILE_NOT_FOUND"))
            stored = prof["profileDetails"].setdefault("comments", {"commentInfo": []})["commentInfo"]
            for info in ((doc.get("profileDetails") or {}).get("comments") or {}).get("commentInfo") or ():
                if info.get("id"):
                    old = next((c for c in stored if c["id"] == info["id"]), None)
                    if old is None:
                        raise _Reply(404, _problem(404, "Comment not found", "", "COMMENT_NOT_FOUND"))
                    old["comment"] = info["comment"]
                else:
                    stored.append({"comment": info["comment"], "id": str(next(self._ids)), "type": "Comment"})
            prof["profileDetails"]["lastModifyDateTime"] = datetime.now(UTC).isoformat()
        return 200, {"profileIdList": prof["profileIdList"], "links": []}, {}

    def post_preference(
        self, params: dict[str, str], q: Any, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        doc = json.loads(body)
        with self._lock:
            prof = self.state.profiles.get(params["profileId"])
            if prof is None:
                raise _Reply(404, _problem(404, "Profile not found", "", "PROFILE_NOT_FOUND"))
            groups = prof["profileDetails"].setdefault("preferenceCollection", {"preferenceType": []})[
                "preferenceType"
            ]
            for coll in doc.get("preferenceCollections") or ():
                group = next((g for g in groups if g["preferenceType"] == coll.get("preferenceType")), None)
                if group is None:
                    group = {"preferenceType": coll.get("preferenceType"), "preference": []}
                    groups.append(group)
                for p in coll.get("preference") or ():
                    if not any(
                        x.get("preferenceCode") == p.get("preferenceCode") for x in group["preference"]
                    ):
                        group["preference"].append(
                            {k: v for k, v in p.items() if k in ("preferenceCode", "description")}
                        )
        return (
            201,
            {"links": []},
            {"Location": f"{self.url}/crm/v1/profiles/{params['profileId']}/preferences"},
        )

    def delete_preference(
        self, params: dict[str, str], q: Any, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            prof = self.state.profiles.get(params["profileId"])
            if prof is None:
                raise _Reply(404, _problem(404, "Profile not found", "", "PROFILE_NOT_FOUND"))
            groups = (prof["profileDetails"].get("preferenceCollection") or {}).get("preferenceType") or []
            group = next((g for g in groups if g["preferenceType"] == params["preferenceType"]), None)
            before = len(group["preference"]) if group else 0
            if group:
                group["preference"] = [
                    p for p in group["preference"] if p.get("preferenceCode") != params["preferenceCode"]
                ]
            if group is None or len(group["preference"]) == before:
                raise _Reply(404, _problem(404, "Preference not found", "", "PREFERENCE_NOT_FOUND"))
            prof["profileDetails"]["lastModifyDateTime"] = datetime.now(UTC).isoformat()
        return 200, {"links": []}, {}

    def get_folio(
        self, params: dict[str, str], q: Any, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        self._hotel(params)
        with self._lock:
            if params["reservationId"] not in self.state.reservations:
                raise _Reply(404, _problem(404, "Reservation not found", "", "RESERVATION_NOT_FOUND"))
            folio = self.state.folios.get(params["reservationId"])
            out = json.loads(json.dumps(folio, default=_num)) if folio else None
        return (200, out, {}) if out else (204, None, {})

    def get_events(
        self, params: dict[str, str], q: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        self._hotel(params)
        if params["extSystemCode"] != self.external_system:
            raise _Reply(404, _problem(404, "External system not found", "", "EXT_SYSTEM_NOT_FOUND"))
        limit = min(int(q.get("limit", ["20"])[0]), 20)
        with self._lock:
            # Dequeue: what is returned is gone from the queue.
            items = [self.state.events.popleft() for _ in range(min(limit, len(self.state.events)))]
        return (200, {"businessEventData": items, "links": []}, {}) if items else (204, None, {})

    def post_alerts(
        self, params: dict[str, str], q: Any, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        self._hotel(params)
        doc = json.loads(body)
        with self._lock:
            for r in doc.get("reservations") or ():
                rid = str((r.get("reservationId") or {}).get("id"))
                if rid not in self.state.reservations:
                    raise _Reply(404, _problem(404, "Reservation not found", "", "RESERVATION_NOT_FOUND"))
                stored = self.state.alerts.setdefault(rid, [])
                for a in r.get("alert") or ():
                    now = datetime.now(UTC).isoformat()
                    if a.get("id"):
                        old = next((x for x in stored if x["id"] == a["id"]), None)
                        if old is None:
                            raise _Reply(404, _problem(404, "Alert not found", "", "ALERT_NOT_FOUND"))
                        old.update({**a, "lastModifyDateTime": now})
                    else:
                        stored.append(
                            {**a, "id": str(next(self._ids)), "type": "Alert", "createDateTime": now}
                        )
        return 201, {"links": []}, {}

    def get_alerts(
        self, params: dict[str, str], q: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        self._hotel(params)
        area = q.get("alertArea", [None])[0]
        with self._lock:
            if params["reservationId"] not in self.state.reservations:
                raise _Reply(404, _problem(404, "Reservation not found", "", "RESERVATION_NOT_FOUND"))
            alerts = [
                dict(a)
                for a in self.state.alerts.get(params["reservationId"], [])
                if area in (None, a.get("area"))
            ]
        return 200, {"alerts": alerts, "comments": [], "guestMessages": []}, {}


def _num(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    raise TypeError(type(v).__name__)


def _rx(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


ROUTES = [
    ("POST", _rx("/oauth/v1/tokens"), "getToken", OhipSimulator.get_token),
    (
        "GET",
        _rx("/rsv/v1/hotels/{hotelId}/reservations"),
        "getHotelReservations",
        OhipSimulator.get_reservations,
    ),
    (
        "POST",
        _rx("/rsv/v1/hotels/{hotelId}/reservations/alerts"),
        "postBulkReservationAlerts",
        OhipSimulator.post_alerts,
    ),
    (
        "GET",
        _rx("/rsv/v1/hotels/{hotelId}/reservations/{reservationId}/alerts"),
        "getAlertNotices",
        OhipSimulator.get_alerts,
    ),
    ("GET", _rx("/crm/v1/profiles/{profileId}"), "getProfile", OhipSimulator.get_profile),
    ("PUT", _rx("/crm/v1/profiles/{profileId}"), "putProfile", OhipSimulator.put_profile),
    (
        "POST",
        _rx("/crm/v1/profiles/{profileId}/preferences"),
        "postPreference",
        OhipSimulator.post_preference,
    ),
    (
        "DELETE",
        _rx(
            "/crm/v1/profiles/{profileId}/hotels/{hotelId}/preferenceType/{preferenceType}/preferences/{preferenceCode}"
        ),
        "deletePreference",
        OhipSimulator.delete_preference,
    ),
    (
        "GET",
        _rx("/csh/v1/hotels/{hotelId}/reservations/{reservationId}/folios"),
        "getFolio",
        OhipSimulator.get_folio,
    ),
    (
        "GET",
        _rx("/int/v1/externalSystem/{extSystemCode}/hotels/{hotelId}/businessEvents"),
        "getBusinessEvents",
        OhipSimulator.get_events,
    ),
]


class _Handler(QuietHandler):
    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out, extra = self.owner.handle(self.command, self.path, headers, body)  # type: ignore[attr-defined]
        payload = (
            b""
            if out is None or status == 204
            else json.dumps(out, ensure_ascii=False, default=_num).encode()
        )
        try:
            self.send_response(status)
            if payload:
                ctype = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("Content-Type", f"{ctype}; charset=utf-8")
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a simulated lost answer)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def demo_options(sim: OhipSimulator) -> dict[str, Any]:
    """A `[sources.NAME]` table for the simulator (literal secrets: it is a local toy)."""
    return {
        "gateway_url": sim.url,
        "app_key": sim.app_key,
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "hotel_id": sim.hotel,
        "external_system": sim.external_system,
        "backfill_days": 14,
        "lookahead_days": 14,
        "page_size": 50,
        "timeout_s": 5,
        "max_attempts": 3,
    }


def demo_simulator(port: int = 0) -> OhipSimulator:
    """The simulator `crmbridge demo` syncs from: 120 invented reservations around today."""
    today = datetime.now(UTC).date()
    sim = OhipSimulator(port=port)
    sim.populate(120, first_arrival=today - timedelta(days=12), days=24, seed=2026, today=today)
    # The demo restaurant's room charges, so its checks link to these stays.
    sim.post_room_charges(demo_room_charges(today))
    # Front-desk edits since the last run: the profiles stream reads the profiles Business
    # Events name (a reservation brings its guest's profile along, so a first run has none).
    for pid in sorted(sim.state.profiles)[:3]:
        sim.add_event("Profile", pid)
    return sim


DEFAULT_PORT = 8091


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m crmbridge_opera.simulator",
        description="A loopback OHIP server with 120 invented reservations, to try an [sources.opera] "
        "config against. Prints the table to paste; Ctrl-C stops it.",
    )
    ap.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free)",
    )
    args = ap.parse_args(argv)
    try:
        sim = demo_simulator(args.port).start()
    except OSError as exc:
        print(
            f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}; pick another --port",
            file=sys.stderr,
        )
        return 1
    secrets_ = {"app_key": "OPERA_SIM_APP_KEY", "client_secret": "OPERA_SIM_CLIENT_SECRET"}
    print("# a [sources] table for config/crmbridge.toml; secrets go by reference:")
    for key, env in secrets_.items():
        print(f"#   export {env}={demo_options(sim)[key]}")
    print('[sources.opera]\ntype = "opera"')
    for k, v in demo_options(sim).items():
        print(f"{k} = " + (f'"${{env:{secrets_[k]}}}"' if k in secrets_ else json.dumps(v)))
    checked = f"checked against {sim.spec.origin}" if sim.spec else "not checked"
    print(f"# simulator running at {sim.url}; requests {checked}; Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        sim.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
