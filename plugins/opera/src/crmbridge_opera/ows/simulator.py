"""A loopback OPERA 5 OWS server: SOAP 1.1, the packaged WSDLs, invented data, faults.

It serves each service's WSDL at `{url}/{Service}.asmx?wsdl` (with its own address) and
answers POSTs to `{url}/{Service}.asmx`. Every request is parsed safely (no DTD, no
entities, no network, bounded size) and its `OGHeader` and Body element are validated
against the XSD types of the WSDL; a request that does not validate gets a SOAP Fault
and is counted in `violations()`. Wrong credentials get `Result resultStatusFlag="FAIL"`.
Faults can be injected per operation: a SOAP Fault, a `Result FAIL`, HTTP 503, a slow
answer, or an answer lost after the write was applied. The time of every request is kept,
so a test can measure the highest request rate the adapter reached (`max_rate`).
It runs in a thread on 127.0.0.1, port 0. `python -m crmbridge_opera.ows.simulator`
starts it and prints a `[sources.opera5]` table.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import zeep
from lxml import etree

from . import schemas
from .client import BINDINGS, CORE
from .simdata import SimComment, SimPreference, SimProfile, SimReservation, make_profile, make_reservation

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ACTION = "http://webservices.micros.com/ows/5.1/{service}.wsdl#{operation}"
MAX_BODY = 1 << 20
PREFIX = "/OWS_WS_51"
DEMO_PASSWORD = "sim-Opera5-Passw0rd"
AUTH_FAILED = "User authentication failed: user name or password is not valid"


@dataclass
class Fault:
    kind: str  # "soap_fault", "fail", "http503", "slow", "lost"
    operation: str | None = None  # None: any operation
    times: int = 1
    delay: float = 0.0  # "slow": before answering; "lost": after applying, before answering


@dataclass
class Recorded:
    at: float
    service: str
    operation: str | None
    status: int = 0
    violation: str | None = None
    flag: str | None = None  # SUCCESS / FAIL when a Result was sent


@dataclass
class SimAlert:
    id: int
    code: str
    area: str
    text: str
    screen: bool = True


@dataclass
class State:
    profiles: dict[str, SimProfile] = field(default_factory=dict)
    reservations: dict[str, SimReservation] = field(default_factory=dict)
    alerts: dict[str, list[SimAlert]] = field(default_factory=dict)


class _Answer(Exception):
    def __init__(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
        self.status, self.body, self.content_type = status, body, content_type


def _dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time(), tzinfo=UTC)
    return None


def _texts(desc: Any) -> str:
    """The text of a DescriptiveText / Paragraph object zeep parsed."""
    if desc is None:
        return ""
    text = getattr(desc, "Text", None)
    if text is None and isinstance(desc, dict):
        text = desc.get("Text")
    items = getattr(text, "TextElement", None) if text is not None and not isinstance(text, list) else text
    out = []
    for t in items or ():
        out.append(str(getattr(t, "_value_1", t) or ""))
    if not out and getattr(desc, "_value_1", None):
        for choice in desc._value_1:
            t = choice.get("Text") if isinstance(choice, dict) else None
            if t is not None:
                out.append(str(getattr(t, "_value_1", t) or ""))
    return " ".join(out)


class OwsSimulator:
    """Construct (binds the port), then use as a context manager or call start()/stop()."""

    def __init__(
        self,
        *,
        hotel: str = "SHA01",
        chain: str = "CHN",
        username: str = "CRMBRIDGE",
        password: str = DEMO_PASSWORD,
        wsdl_dir: Path = schemas.PACKAGED,
    ) -> None:
        self.hotel, self.chain = hotel, chain
        self.username, self.password = username, password
        self.wsdl_dir = wsdl_dir
        self.state = State()
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self._ids = itertools.count(700001)
        self._lock = threading.RLock()
        self._bindings: dict[str, Any] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.sim = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{PREFIX}"

    def start(self) -> OwsSimulator:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> OwsSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data and faults ----------------------------------------------------------------------
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
                    pid = str(200000 + len(self.state.profiles) + 1)
                    modified = datetime.combine(today - timedelta(days=3), datetime.min.time(), tzinfo=UTC)
                    self.state.profiles[pid] = make_profile(rng, i, pid, modified)
                    pids.append(pid)
                rid, conf = str(600000 + len(self.state.reservations) + 1), str(9100000 + i)
                arrival = first_arrival + timedelta(days=rng.randrange(max(days, 1)))
                self.state.reservations[rid] = make_reservation(
                    rng, rid, conf, self.state.profiles[pid], arrival, today
                )

    def fault(self, kind: str, operation: str | None = None, *, times: int = 1, delay: float = 0.0) -> None:
        with self._lock:
            self.faults.append(Fault(kind, operation, times, delay))

    def alerts_of(self, rid: str) -> list[SimAlert]:
        with self._lock:
            return list(self.state.alerts.get(rid, []))

    def violations(self) -> list[Recorded]:
        return [r for r in self.requests if r.violation]

    def calls(self, operation: str, *, ok: bool = True) -> int:
        """How many calls of `operation` were answered (with SUCCESS, when `ok`)."""
        return sum(
            1
            for r in self.requests
            if r.operation == operation and (not ok or (r.status == 200 and r.flag == "SUCCESS"))
        )

    def max_rate(self, window: float = 1.0) -> int:
        """The most requests that arrived within any `window` seconds (half-open)."""
        times = sorted(r.at for r in self.requests)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def _take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0 and (f.operation is None or f.operation == operation):
                    f.times -= 1
                    return f
        return None

    # -- SOAP ----------------------------------------------------------------------------------
    def binding(self, service: str) -> Any:
        if service not in self._bindings:
            client = zeep.Client(str(self.wsdl_dir / f"{service}.wsdl"))
            self._bindings[service] = client.wsdl.bindings[BINDINGS[service]]
        return self._bindings[service]

    def wsdl(self, service: str) -> bytes:
        raw = (self.wsdl_dir / f"{service}.wsdl").read_bytes()
        return raw.replace(
            b"http://127.0.0.1/ows/" + service.encode() + b".asmx", f"{self.url}/{service}.asmx".encode()
        )

    def handle_post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        service = path.rsplit("/", 1)[-1].removesuffix(".asmx")
        rec = Recorded(time.monotonic(), service, None)
        with self._lock:
            self.requests.append(rec)
        try:
            if service not in BINDINGS or path != f"{PREFIX}/{service}.asmx":
                raise _Answer(404, b"not found", "text/plain")
            try:
                root = schemas.parse_safely(body, MAX_BODY)
            except ValueError as exc:
                rec.violation = str(exc)
                raise _Answer(400, self._fault_xml("Client", str(exc))) from None
            header, request = self._split(root, rec)
            operation = etree.QName(request).localname.removesuffix("Request")
            rec.operation = operation
            action = headers.get("soapaction", "").strip('"')
            problems = (
                []
                if action == ACTION.format(service=service, operation=operation)
                else [f"SOAPAction {action!r} does not name {service}#{operation}"]
            )
            problems += [f"OGHeader {p}" for p in schemas.problems(service, header)]
            problems += schemas.problems(service, request)
            op = self.binding(service)._operations.get(operation)
            if op is None:
                problems.append(f"{service} has no operation {operation}")
            if problems:
                rec.violation = "; ".join(problems)[:2000]
                raise _Answer(
                    500, self._fault_xml("Client", "request does not conform to the WSDL: " + rec.violation)
                )
            transaction = header.get("transactionID", "")
            if not self._authenticated(header):
                raise _Answer(
                    200, self._reply(op, transaction, rec, {}, fail=(AUTH_FAILED, "AUTHENTICATION_FAILED"))
                )
            fault = self._take_fault(operation)
            if fault is not None and fault.kind != "lost":
                if fault.kind == "slow":
                    time.sleep(fault.delay)
                elif fault.kind == "soap_fault":
                    raise _Answer(
                        500, self._fault_xml("Server", "Object reference not set (simulated failure)")
                    )
                elif fault.kind == "http503":
                    raise _Answer(503, b"Service Unavailable", "text/html")
                elif fault.kind == "fail":
                    raise _Answer(
                        200, self._reply(op, transaction, rec, {}, fail=("Simulated failure", "SIM_FAIL"))
                    )
            args = self._deserialize(op, root)
            with self._lock:
                result = getattr(self, f"_op_{operation}")(args)
            if isinstance(result, tuple):  # (text, code): a business refusal
                raise _Answer(200, self._reply(op, transaction, rec, {}, fail=result))
            answer = self._reply(op, transaction, rec, result)
            if fault is not None and fault.kind == "lost":
                time.sleep(fault.delay)  # applied; the answer comes too late for the client
            raise _Answer(200, answer)
        except _Answer as ans:
            rec.status = ans.status
            return ans.status, ans.body

    def _split(self, root: etree._Element, rec: Recorded) -> tuple[etree._Element, etree._Element]:
        if root.tag != f"{{{SOAP_ENV}}}Envelope":
            rec.violation = "not a SOAP 1.1 envelope"
            raise _Answer(500, self._fault_xml("Client", rec.violation))
        header = root.find(f"{{{SOAP_ENV}}}Header/{{{CORE}}}OGHeader")
        body = root.find(f"{{{SOAP_ENV}}}Body")
        children = [c for c in body if isinstance(c.tag, str)] if body is not None else []
        if header is None or len(children) != 1:
            rec.violation = "an OWS request needs an OGHeader and exactly one Body element"
            raise _Answer(500, self._fault_xml("Client", rec.violation))
        return header, children[0]

    def _authenticated(self, header: etree._Element) -> bool:
        cred = header.find(f"{{{CORE}}}Authentication/{{{CORE}}}UserCredentials")
        if cred is None:
            return False
        user = cred.findtext(f"{{{CORE}}}UserName") or ""
        password = cred.findtext(f"{{{CORE}}}UserPassword") or ""
        return user == self.username and password == self.password

    def _deserialize(self, op: Any, root: etree._Element) -> Any:
        body = root.find(f"{{{SOAP_ENV}}}Body")
        request = next(c for c in body if isinstance(c.tag, str))
        element = op.input.body
        return element.parse(request, op.input.wsdl.types)

    def _reply(
        self,
        op: Any,
        transaction: str,
        rec: Recorded,
        body: dict[str, Any],
        fail: tuple[str, str] | None = None,
    ) -> bytes:
        if fail:
            text, code = fail
            result = {"resultStatusFlag": "FAIL", "Text": {"TextElement": [text]}, "OperaErrorCode": code}
        else:
            result = {"resultStatusFlag": "SUCCESS"}
        rec.flag = result["resultStatusFlag"]
        header = {"transactionID": transaction, "timeStamp": datetime.now(UTC).replace(microsecond=0)}
        msg = op.output.serialize(Result=result, **body, _soapheaders={"OGHeader": header})
        return etree.tostring(msg.content, xml_declaration=True, encoding="utf-8")

    @staticmethod
    def _fault_xml(code: str, text: str) -> bytes:
        env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
        fault = etree.SubElement(etree.SubElement(env, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = f"soap:{code}"
        etree.SubElement(fault, "faultstring").text = text[:2000]
        return etree.tostring(env, xml_declaration=True, encoding="utf-8")

    # -- rendering -----------------------------------------------------------------------------
    def _profile_body(self, p: SimProfile) -> dict[str, Any]:
        native = None
        if p.native:
            native = {"firstName": p.native[1:], "lastName": p.native[0], "languageCode": "C"}
        return {
            "ProfileIDs": {"UniqueID": [{"_value_1": p.pid, "type": "INTERNAL"}]},
            "Customer": {
                "PersonName": {"firstName": p.first, "lastName": p.last},
                "NativeName": native,
                "gender": "MALE" if p.gender == "M" else "FEMALE",
                "birthDate": p.birth,
            },
            "Phones": {"NamePhone": [{"PhoneNumber": p.phone, "phoneType": "MOBILE", "primary": True}]},
            "Preferences": {"Preference": [self._pref(x) for x in p.preferences]},
            "EMails": {"NameEmail": [{"_value_1": p.email, "emailType": "EMAIL", "primary": True}]},
            "Memberships": {
                "NameMembership": [
                    {
                        "membershipType": t,
                        "membershipNumber": no,
                        "membershipLevel": lvl,
                        "currentPoints": pts,
                    }
                    for t, no, lvl, pts in p.memberships
                ]
            },
            "Comments": {"Comment": [self._comment(c) for c in p.comments]},
            "nameType": "INDIVIDUAL",
            "languageCode": p.language,
            "nationality": p.nationality,
            "vipCode": p.vip,
            "updateDate": p.updated,
        }

    @staticmethod
    def _pref(x: SimPreference) -> dict[str, Any]:
        return {
            "PreferenceDescription": {"Text": {"TextElement": [x.description]}},
            "preferenceType": x.type, "preferenceValue": x.value, "insertUser": x.insert_user,
        }  # fmt: skip

    @staticmethod
    def _comment(c: SimComment) -> dict[str, Any]:
        return {
            "Text": {"TextElement": [c.text]}, "operaId": c.id, "commentTitle": c.title,
            "commentType": c.type, "insertUser": c.insert_user, "internalYn": "N",
        }  # fmt: skip

    def _reservation_body(self, r: SimReservation, detail: bool) -> dict[str, Any]:
        p = self.state.profiles[r.pid]
        stay_span = {"StartDate": _dt(r.arrival), "EndDate": _dt(r.departure)}
        guest: dict[str, Any] = {
            "Profiles": {"Profile": [{
                "ProfileIDs": {"UniqueID": [{"_value_1": p.pid, "type": "INTERNAL"}]},
                "Customer": {"PersonName": {"firstName": p.first, "lastName": p.last}},
            }]},
            "resGuestRPH": 0,
        }  # fmt: skip
        if detail and r.checked_in:
            guest["InHouseTimeSpan"] = {
                "StartDate": r.checked_in,
                "EndDate": r.checked_out or _dt(r.departure),
            }
        if detail and r.specials:
            guest["SpecialRequests"] = {
                "SpecialRequest": [
                    {"_value_1": [{"Text": {"_value_1": s}}], "requestCode": "REQ"} for s in r.specials
                ]
            }
        body: dict[str, Any] = {
            "UniqueIDList": {"UniqueID": [
                {"_value_1": r.conf, "type": "INTERNAL"},
                {"_value_1": r.rid, "type": "INTERNAL", "source": "RESVID"},
            ]},
            "RoomStays": {"RoomStay": [{
                "RatePlans": {"RatePlan": [{"ratePlanCode": r.rate_code}]},
                "RoomTypes": {"RoomType": [
                    {"roomTypeCode": r.room_type, "RoomNumber": [r.room] if r.room else []},
                ]},
                "GuestCounts": {"GuestCount": [
                    {"ageQualifyingCode": "ADULT", "count": r.adults},
                    {"ageQualifyingCode": "CHILD", "count": r.children},
                ]},
                "TimeSpan": stay_span,
                "HotelReference": {"_value_1": "", "hotelCode": self.hotel, "chainCode": self.chain},
                "Total": {"_value_1": float(r.total), "currencyCode": "CNY"},
            }]},
            "ResGuests": {"ResGuest": [guest]},
            "reservationStatus": r.status,
            "computedReservationStatus": r.status,
            "sourceCode": r.source,
            "insertDate": r.created,
            "updateDate": r.updated,
            "alertsCount": len(self.state.alerts.get(r.rid, [])),
        }  # fmt: skip
        return body

    # -- operations (called under the lock) -----------------------------------------------------
    def _profile_of(self, name_id: Any) -> SimProfile | None:
        return self.state.profiles.get(str(getattr(name_id, "_value_1", "") or ""))

    def _op_FetchProfile(self, a: Any) -> Any:
        p = self._profile_of(a.NameID)
        return (
            ("Profile not found", "PROFILE_NOT_FOUND")
            if p is None
            else {"ProfileDetails": self._profile_body(p)}
        )

    def _op_FetchCommentList(self, a: Any) -> Any:
        p = self._profile_of(a.NameID)
        if p is None:
            return ("Profile not found", "PROFILE_NOT_FOUND")
        return {"CommentList": {"Comment": [self._comment(c) for c in p.comments]}}

    def _op_FetchPreferenceList(self, a: Any) -> Any:
        p = self._profile_of(a.NameID)
        if p is None:
            return ("Profile not found", "PROFILE_NOT_FOUND")
        return {"PreferenceList": {"Preference": [self._pref(x) for x in p.preferences]}}

    def _touch(self, p: SimProfile) -> None:
        p.updated = max(datetime.now(UTC).replace(microsecond=0), p.updated + timedelta(seconds=1))

    def _op_InsertComment(self, a: Any) -> Any:
        p = self._profile_of(a.NameID)
        if p is None:
            return ("Profile not found", "PROFILE_NOT_FOUND")
        c = a.Comment
        p.comments.append(
            SimComment(next(self._ids), c.commentTitle or "", c.commentType or "", _texts(c), self.username)
        )
        self._touch(p)
        return {}

    def _op_UpdateComment(self, a: Any) -> Any:
        p = self._profile_of(a.NameID)
        target = next((c for c in p.comments if c.id == a.Comment.operaId), None) if p else None
        if target is None:
            return ("Comment not found", "COMMENT_NOT_FOUND")
        target.text, target.title = _texts(a.Comment), a.Comment.commentTitle or target.title
        self._touch(p)  # type: ignore[arg-type]
        return {}

    def _op_DeleteComment(self, a: Any) -> Any:
        p = self._profile_of(a.NameID)
        cid = int(str(getattr(a.CommentID, "_value_1", "0") or 0))
        if p is None or not any(c.id == cid for c in p.comments):
            return ("Comment not found", "COMMENT_NOT_FOUND")
        p.comments = [c for c in p.comments if c.id != cid]
        self._touch(p)
        return {}

    def _op_InsertPreference(self, a: Any) -> Any:
        p = self._profile_of(a.NameID)
        if p is None:
            return ("Profile not found", "PROFILE_NOT_FOUND")
        x = a.Preference
        if not any(q.type == x.preferenceType and q.value == x.preferenceValue for q in p.preferences):
            desc = _texts(x.PreferenceDescription) or x.preferenceValue
            p.preferences.append(SimPreference(x.preferenceType, x.preferenceValue, desc, self.username))
            self._touch(p)
        return {}

    def _op_DeletePreference(self, a: Any) -> Any:
        p = self._profile_of(a.NameID)
        if p is None:
            return ("Profile not found", "PROFILE_NOT_FOUND")
        x = a.Preference
        before = len(p.preferences)
        p.preferences = [
            q for q in p.preferences if not (q.type == x.preferenceType and q.value == x.preferenceValue)
        ]
        if len(p.preferences) == before:
            return ("Preference not found", "PREFERENCE_NOT_FOUND")
        self._touch(p)
        return {}

    def _reservation_of(self, a: Any) -> SimReservation | None:
        rid = getattr(getattr(a, "ResvNameId", None), "_value_1", None)
        if rid:
            return self.state.reservations.get(str(rid))
        conf = getattr(getattr(a, "ConfirmationNumber", None), "_value_1", None)
        return next((r for r in self.state.reservations.values() if r.conf == str(conf)), None)

    def _op_FutureBookingSummary(self, a: Any) -> Any:
        span = a.QueryDateRange
        if span is None or span.StartDate is None or span.EndDate is None:
            return ("QueryDateRange with StartDate and EndDate is required", "INVALID_DATE_RANGE")
        start, end = _dt(span.StartDate).date(), _dt(span.EndDate).date()  # type: ignore[union-attr]
        kind = span.dateType or "ARRIVAL_DATE"
        filters = a.AdditionalFilters
        status = getattr(filters, "ReservationStatus", None) if filters is not None else None
        hotel = (
            getattr(getattr(filters, "HotelReference", None), "hotelCode", None)
            if filters is not None
            else None
        )
        if hotel and hotel != self.hotel:
            return ("Invalid resort code", "INVALID_RESORT")
        out = []
        for r in sorted(self.state.reservations.values(), key=lambda r: (r.arrival, r.rid)):
            day = {"ARRIVAL_DATE": r.arrival, "DEPARTURE_DATE": r.departure}.get(kind, r.created.date())
            if start <= day <= end and (status is None or r.status == status):
                out.append(self._reservation_body(r, detail=False))
        return {"HotelReservations": {"HotelReservation": out}}

    def _op_FetchBooking(self, a: Any) -> Any:
        r = self._reservation_of(a)
        if r is None:
            return ("Reservation not found", "RESERVATION_NOT_FOUND")
        return {"HotelReservation": self._reservation_body(r, detail=True)}

    def _op_GuestRequests(self, a: Any) -> Any:
        r = self._reservation_of(a)
        if r is None:
            return ("Reservation not found", "RESERVATION_NOT_FOUND")
        alerts = self.state.alerts.setdefault(r.rid, [])
        sent = []
        if a.GuestRequests is not None and a.GuestRequests.Alerts is not None:
            sent = a.GuestRequests.Alerts.ReservationAlerts or []
        action = a.ActionType
        for x in sent:
            if action == "ADD":
                alerts.append(SimAlert(next(self._ids), x.Code or "", x.Area or "", _texts(x.Description),
                                       x.screenNotification is not False))  # fmt: skip
            elif action in ("UPDATE", "DELETE"):
                mine = next((y for y in alerts if x.AlertID is not None and y.id == int(x.AlertID)), None)
                if mine is None:
                    return ("Alert not found", "ALERT_NOT_FOUND")
                if action == "DELETE":
                    alerts.remove(mine)
                else:
                    mine.code, mine.area, mine.text = (
                        x.Code or mine.code,
                        x.Area or mine.area,
                        _texts(x.Description),
                    )
        if action != "FETCH":
            r.updated = max(datetime.now(UTC).replace(microsecond=0), r.updated + timedelta(seconds=1))
        shown = [
            {"AlertID": float(y.id), "Code": y.code, "Area": y.area,
             "Description": {"_value_1": [{"Text": {"_value_1": y.text}}]}, "screenNotification": y.screen}
            for y in alerts
        ]  # fmt: skip
        return {"GuestRequests": {"Alerts": {"ReservationAlerts": shown}}}

    def _op_Invoice(self, a: Any) -> Any:
        req = a.ReservationRequest
        ids = [str(u._value_1) for u in (req.ReservationID.UniqueID if req.ReservationID else [])]
        r = next((self.state.reservations[i] for i in ids if i in self.state.reservations), None)
        if r is None:
            return ("Reservation not found", "RESERVATION_NOT_FOUND")
        items = [
            {"Amount": {"_value_1": float(i.amount), "currencyCode": "CNY", "decimals": 2}, "Date": i.day,
             "Description": i.description, "TransactionCode": i.code, "TransactionNo": str(i.no),
             "Reference": i.reference}
            for i in r.folio
        ]  # fmt: skip
        total = sum((i.amount for i in r.folio), Decimal(0))
        return {
            "Invoice": [
                {
                    "BillItems": items,
                    "CurrentBalance": {"_value_1": float(total), "currencyCode": "CNY"},
                    "FolioViewNo": 1,
                }
            ]
        }

    def _op_QueryLov(self, a: Any) -> Any:
        return {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        sim: OwsSimulator = self.server.sim  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        service = parts.path.rsplit("/", 1)[-1].removesuffix(".asmx")
        if (
            parts.query.lower() != "wsdl"
            or service not in BINDINGS
            or parts.path != f"{PREFIX}/{service}.asmx"
        ):
            self._send(404, b"not found", "text/plain")
            return
        with sim._lock:
            sim.requests.append(Recorded(time.monotonic(), service, "wsdl", 200))
        self._send(200, sim.wsdl(service))

    def do_POST(self) -> None:
        sim: OwsSimulator = self.server.sim  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, b"too large", "text/plain")
            return
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, answer = sim.handle_post(urlsplit(self.path).path, headers, body)
        # The client may have given up waiting (a lost answer): nobody left to answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._send(status, answer, "text/html" if status == 503 else "text/xml; charset=utf-8")


def demo_options(sim: OwsSimulator) -> dict[str, Any]:
    """A `[sources.NAME]` table for the simulator (a literal password: it is a local toy)."""
    return {
        "base_url": sim.url,
        "username": sim.username,
        "password": sim.password,
        "destination_entity": sim.hotel,
        "hotel_code": sim.hotel,
        "chain_code": sim.chain,
        "backfill_days": 14,
        "lookahead_days": 14,
        "timeout_s": 5,
        "max_attempts": 3,
        "max_requests_per_second": 50,
    }


def demo_simulator() -> OwsSimulator:
    """The OPERA 5 simulator `crmbridge demo` syncs from: 80 invented reservations."""
    today = datetime.now(UTC).date()
    sim = OwsSimulator(hotel="SHA05")
    sim.populate(80, first_arrival=today - timedelta(days=12), days=24, seed=5, today=today)
    return sim


def main() -> None:  # pragma: no cover - manual use
    sim = demo_simulator().start()
    print("# a [sources] table for config/crmbridge.toml; the password goes by reference:")
    print(f"#   export OPERA5_SIM_PASSWORD={sim.password}")
    print('[sources.opera5]\ntype = "opera-ows"')
    for k, v in demo_options(sim).items():
        print(f"{k} = " + ('"${env:OPERA5_SIM_PASSWORD}"' if k == "password" else json.dumps(v)))
    print(f"# simulator running at {sim.url}; Ctrl-C stops it")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
