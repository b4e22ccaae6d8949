"""A Ctrip client simulator: sends Ctrip's SOAP/OTA messages to a receiver over real HTTP.

Ctrip calls the hotel, so the simulator is a client. `scripted_stream()` is the stream the
end-to-end tests and the demo replay: new orders (guests named in Chinese characters and in
pinyin), a duplicate, a modification, a cancel sent before its order, a cancel, status reads
and a wrong password. Every guest is invented. Run it against a receiver by hand with
`python -m crmbridge_ctrip.simulator --url http://127.0.0.1:8080/ota/ctrip --hotel SHA01`
(the password comes from $CTRIP_MESSAGE_PASSWORD).
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
from lxml import etree

from .messages import CTRIP_ORDER, HOTEL_CODE
from .safexml import OTA_NS, SOAP11_NS, attr, local, parse, unwrap

SOAP_ACTION = '"http://www.opentravel.org/OTA/2003/05/Request"'
CTRIP_DESK_PHONE = "+86 21 3406 4888"  # invented; Ctrip puts its service desk in ContactPerson


@dataclass
class Guest:
    surname: str  # as Ctrip sends it: 王, or ZHANG, or ZHANG/WEI
    given: str | None = None
    pinyin: tuple[str, str] | None = None  # a second PersonName in Latin script (surname, given)
    phone: str | None = None
    email: str | None = None


@dataclass
class Order:
    order_id: str
    hotel_code: str
    arrival: date
    nights: int
    guest: Guest
    room_type: str = "DLK"
    rate_plan: str = "BAR"
    rooms: int = 1
    adults: int = 2
    children: int = 0
    nightly: Decimal = Decimal("688.00")
    currency: str = "CNY"
    requests: list[str] = field(default_factory=list)

    @property
    def departure(self) -> date:
        return self.arrival + timedelta(days=self.nights)


@dataclass(frozen=True)
class Credentials:
    requestor_id: str
    password: str


def _el(parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    name = f"{{{OTA_NS}}}{tag}"
    el = (
        etree.Element(name, attrs, nsmap={None: OTA_NS})
        if parent is None
        else etree.SubElement(parent, name, attrs)
    )
    if text is not None:
        el.text = text
    return el


def _root(tag: str, creds: Credentials, echo: str, sent_at: datetime) -> etree._Element:
    # Ctrip writes local (GMT+8) times without an offset, and an EchoToken like 201408220919.
    local_time = sent_at.astimezone(UTC) + timedelta(hours=8)
    root = _el(
        None, tag, Version="2.1", EchoToken=echo, TimeStamp=local_time.strftime("%Y-%m-%dT%H:%M:%S.%f")
    )
    source = _el(_el(root, "POS"), "Source")
    rid = _el(source, "RequestorID", ID=creds.requestor_id, MessagePassword=creds.password, Type="5")
    _el(rid, "CompanyName", Code="C", CodeContext="600")
    return root


def _reservation(parent: etree._Element, tag: str, o: Order) -> None:
    res = _el(parent, tag)
    stay = _el(_el(res, "RoomStays"), "RoomStay")
    _el(_el(stay, "RoomTypes"), "RoomType", RoomTypeCode=o.room_type, NumberOfUnits=str(o.rooms))
    _el(_el(stay, "RatePlans"), "RatePlan", RatePlanCode=o.rate_plan)
    rate = _el(_el(stay, "RoomRates"), "RoomRate", RatePlanCode=o.rate_plan, NumberOfUnits=str(o.rooms))
    rates = _el(rate, "Rates")
    for n in range(o.nights):
        night = (o.arrival + timedelta(days=n)).isoformat()
        r = _el(rates, "Rate", EffectiveDate=night, ExpireDate=night)
        _el(r, "Base", AmountAfterTax=str(o.nightly), CurrencyCode=o.currency)
    _el(stay, "BasicPropertyInfo", HotelCode=o.hotel_code)
    guest = _el(_el(res, "ResGuests"), "ResGuest", ArrivalTime="18:00")
    customer = _el(_el(_el(_el(guest, "Profiles"), "ProfileInfo"), "Profile"), "Customer")
    name = _el(customer, "PersonName")
    if o.guest.given is not None:
        _el(name, "GivenName", o.guest.given)
    _el(name, "Surname", o.guest.surname)
    if o.guest.pinyin:
        latin = _el(customer, "PersonName")
        _el(latin, "GivenName", o.guest.pinyin[1])
        _el(latin, "Surname", o.guest.pinyin[0])
    if o.guest.phone:
        _el(customer, "Telephone", PhoneNumber=o.guest.phone, PhoneTechType="5")
    if o.guest.email:
        _el(customer, "Email", o.guest.email)
    desk = _el(customer, "ContactPerson")
    _el(_el(desk, "PersonName"), "Surname", "携程客服")
    _el(desk, "Telephone", PhoneNumber=CTRIP_DESK_PHONE)
    info = _el(res, "ResGlobalInfo")
    counts = _el(info, "GuestCounts")
    _el(counts, "GuestCount", Count=str(o.adults), AgeQualifyingCode="10")
    if o.children:
        _el(counts, "GuestCount", Count=str(o.children), AgeQualifyingCode="8")
    _el(info, "TimeSpan", Start=f"{o.arrival.isoformat()} 0:00:00", End=f"{o.departure.isoformat()} 0:00:00")
    if o.requests:
        reqs = _el(info, "SpecialRequests")
        for text in o.requests:
            _el(_el(reqs, "SpecialRequest"), "Text", text)
    total = o.nightly * o.nights * o.rooms
    _el(info, "Total", AmountAfterTax=str(total), CurrencyCode=o.currency)
    ids = _el(info, "HotelReservationIDs")
    _el(ids, "HotelReservationID", ResID_Type=CTRIP_ORDER, ResID_Value=o.order_id)


def envelope(message: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soap": SOAP11_NS})
    etree.SubElement(env, f"{{{SOAP11_NS}}}Body").append(message)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


class Messages:
    """Builds Ctrip's requests for one hotel account."""

    def __init__(self, creds: Credentials, clock: Callable[[], datetime] | None = None) -> None:
        self.creds = creds
        self.clock = clock or (lambda: datetime.now(UTC))
        self._echo = 0

    def _start(self, tag: str) -> etree._Element:
        self._echo += 1
        now = self.clock()
        return _root(tag, self.creds, f"{now:%Y%m%d%H%M}{self._echo:04d}", now)

    def order(self, o: Order) -> bytes:
        root = self._start("OTA_HotelResRQ")
        _el(root, "UniqueID", Type=CTRIP_ORDER, ID=o.order_id)
        _reservation(_el(root, "HotelReservations"), "HotelReservation", o)
        return envelope(root)

    def modify(self, o: Order) -> bytes:
        root = self._start("OTA_HotelResModifyRQ")
        _el(root, "UniqueID", Type=CTRIP_ORDER, ID=o.order_id)
        _reservation(_el(root, "HotelResModifies"), "HotelResModify", o)
        return envelope(root)

    def cancel(self, order_id: str, hotel_code: str, reason: str = "客人行程变更") -> bytes:
        root = self._start("OTA_CancelRQ")
        root.set("CancelType", "Cancel")
        _el(root, "UniqueID", Type=CTRIP_ORDER, ID=order_id)
        _el(root, "UniqueID", Type=HOTEL_CODE, ID=hotel_code)
        _el(_el(_el(root, "Reasons"), "Reason"), "Text", reason) if False else _el(
            _el(root, "Reasons"), "Reason", reason
        )
        return envelope(root)

    def read(self, order_id: str) -> bytes:
        root = self._start("OTA_ReadRQ")
        _el(_el(_el(root, "ReadRequests"), "ReadRequest"), "UniqueID", Type=CTRIP_ORDER, ID=order_id)
        return envelope(root)


@dataclass
class Outcome:
    """What the hotel answered, as Ctrip reads it."""

    http_status: int
    root: str
    success: bool
    errors: list[tuple[str, str]]  # (Type, Code)
    warnings: list[tuple[str, str]]
    res_status: str | None
    hotel_ref: str | None

    @classmethod
    def read(cls, status: int, body: bytes) -> Outcome:
        msg = unwrap(parse(body)).message
        errors = [(e.get("Type", ""), e.get("Code", "")) for e in msg.iterfind("{*}Errors/{*}Error")]
        warnings = [(w.get("Type", ""), w.get("Code", "")) for w in msg.iterfind("{*}Warnings/{*}Warning")]
        res = next(msg.iter(f"{{{OTA_NS}}}HotelReservation", f"{{{OTA_NS}}}HotelResModify"), None)
        refs = [attr(r, "ResID_Value") for r in msg.iter(f"{{{OTA_NS}}}HotelReservationID")]
        refs += [attr(u, "ID") for u in msg.iterfind("{*}UniqueID")]
        ref = next((r for r in refs if r and r.startswith("CB")), None)
        return cls(
            status,
            local(msg),
            msg.find("{*}Success") is not None,
            errors,
            warnings,
            attr(res, "ResStatus"),
            ref,
        )


class CtripClient:
    """Posts messages the way Ctrip does: one SOAP request at a time, bounded retries."""

    def __init__(self, url: str, timeout: float = 10.0, retries: int = 3) -> None:
        self.url = url
        self.retries = retries
        # TCP_NODELAY: without it each small request waits on a delayed ACK (40 ms on Linux).
        transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self.http = httpx.Client(transport=transport, timeout=timeout)

    def send(self, body: bytes) -> Outcome:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": SOAP_ACTION}
        for attempt in range(1, self.retries + 1):
            try:
                resp = self.http.post(self.url, content=body, headers=headers)
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
                time.sleep(0.1 * attempt)
                continue
            if resp.status_code != 200:
                return Outcome(resp.status_code, "", False, [], [], None, None)
            outcome = Outcome.read(resp.status_code, resp.content)
            if ("12", "448") in outcome.errors and attempt < self.retries:  # Ctrip retries system errors
                time.sleep(0.1 * attempt)
                continue
            return outcome
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> CtripClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the scripted stream ------------------------------------------------------------------------


@dataclass
class Step:
    label: str
    body: bytes
    expect: Callable[[Outcome], bool]


def _ok(status: str) -> Callable[[Outcome], bool]:
    return lambda o: o.success and not o.errors and o.res_status == status


def _error(code: str) -> Callable[[Outcome], bool]:
    return lambda o: not o.success and code in [c for _, c in o.errors]


def invented_orders(hotel: str, start: date) -> dict[str, Order]:
    """Invented guests: Chinese characters with pinyin, pinyin only, and a foreign guest."""
    return {
        "wang": Order(
            "CT2026112301", hotel, start, 2,
            Guest("王", "芳", pinyin=("Wang", "Fang"), phone="+86 139 0013 9000",
                  email="wang.fang.demo@example.cn"),
            requests=["高楼层，远离电梯"],
        ),
        "zhang": Order(
            "CT2026112302", hotel, start + timedelta(days=3), 1,
            Guest("ZHANG/WEI", phone="138-0013-8000"), room_type="SUP", nightly=Decimal("888.00"),
        ),
        "li": Order(
            "CT2026112303", hotel, start + timedelta(days=7), 3,
            Guest("李", "娜", phone="+86 137 0013 7000"), adults=1, children=1, requests=["无烟房"],
        ),
        "muller": Order(
            "CT2026112304", hotel, start + timedelta(days=10), 2,
            Guest("Müller", "Anna", email="anna.mueller.demo@example.de"), currency="CNY",
        ),
    }  # fmt: skip


def scripted_stream(creds: Credentials, hotel: str, start: date) -> list[Step]:
    """The end state: wang confirmed with one night more, zhang cancelled, li cancelled (its
    cancel came first), muller confirmed; an order with a wrong password stored nowhere."""
    m = Messages(creds)
    bad = Messages(replace(creds, password=creds.password + "-wrong"))
    o = invented_orders(hotel, start)
    wang_longer = replace(o["wang"], nights=3, requests=[*o["wang"].requests, "加床"])
    return [
        Step("order wang", m.order(o["wang"]), _ok("S")),
        Step("order zhang", m.order(o["zhang"]), _ok("S")),
        Step(
            "duplicate order wang", m.order(o["wang"]), lambda r: _ok("S")(r) and ("3", "127") in r.warnings
        ),
        Step("modify wang: one night more", m.modify(wang_longer), _ok("S")),
        Step("cancel li before its order", m.cancel(o["li"].order_id, hotel), lambda r: r.success),
        Step("order li", m.order(o["li"]), _ok("S")),
        Step("cancel zhang", m.cancel(o["zhang"].order_id, hotel), lambda r: r.success),
        Step("order muller", m.order(o["muller"]), _ok("S")),
        Step("read wang", m.read(o["wang"].order_id), _ok("S")),
        Step("read zhang", m.read(o["zhang"].order_id), _ok("C")),
        Step("read an unknown order", m.read("CT2026119999"), _error("245")),
        Step(
            "order with a wrong password",
            bad.order(replace(o["muller"], order_id="CT2026112309")),
            _error("497"),
        ),
    ]


def run(url: str, steps: Iterable[Step]) -> list[tuple[Step, Outcome]]:
    with CtripClient(url) as client:
        return [(step, client.send(step.body)) for step in steps]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Replay Ctrip's scripted stream against a receiver.")
    p.add_argument("--url", required=True, help="the receiver route, e.g. http://127.0.0.1:8080/ota/ctrip")
    p.add_argument("--hotel", required=True, help="hotel_code of the ctrip source")
    p.add_argument("--requestor-id", default="ctrip")
    args = p.parse_args(argv)
    password = os.environ.get("CTRIP_MESSAGE_PASSWORD")
    if not password:
        p.error("set CTRIP_MESSAGE_PASSWORD to the source's message_password")
    steps = scripted_stream(
        Credentials(args.requestor_id, password), args.hotel, date.today() + timedelta(days=7)
    )
    failed = 0
    for step, outcome in run(args.url, steps):
        ok = step.expect(outcome)
        failed += not ok
        print(f"{'ok ' if ok else 'BAD'} {step.label}: {outcome.root} success={outcome.success} "
              f"errors={outcome.errors} warnings={outcome.warnings} status={outcome.res_status}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
