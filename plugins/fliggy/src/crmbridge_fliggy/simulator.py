"""A Taobao Open Platform gateway on loopback HTTP, for tests and ``crmbridge demo``.

It speaks TOP's real wire format: a form-encoded POST signed as ``signing.py`` describes, checked
the way the gateway checks it (app key, timestamp within ten minutes of GMT+8, signature,
session), answered with ``…_response`` JSON or TOP's ``error_response``. It serves
``taobao.xhotel.order.search`` over invented orders: windows of at most 30 days on
``created_start``/``created_end``, 20 orders a page. ``fail_next`` injects rate-limit errors.
JSON only (``format=json``); the XML format is refused as unsupported.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from crmbridge.testing.server import LoopbackServer, QuietHandler

from .client import GMT8, TOP_TIME, parse_top_time, response_key, top_time
from .signing import SIGN_METHODS, verify

SEARCH = "taobao.xhotel.order.search"
PAGE_SIZE = 20
MAX_SPAN = timedelta(days=30)
MAX_SKEW = timedelta(minutes=10)
MAX_BODY = 1 << 20

SURNAMES = [("王", "WANG"), ("李", "LI"), ("张", "ZHANG"), ("刘", "LIU"), ("陈", "CHEN"), ("杨", "YANG"),
            ("欧阳", "OUYANG"), ("诸葛", "ZHUGE"), ("黄", "HUANG"), ("周", "ZHOU")]  # fmt: skip
GIVEN = [("伟", "WEI"), ("芳", "FANG"), ("娜", "NA"), ("晓明", "XIAOMING"), ("婷婷", "TINGTING"),
         ("子涵", "ZIHAN"), ("建国", "JIANGUO"), ("思琪", "SIQI")]  # fmt: skip
LATIN = [("Emma", "Schmidt"), ("Lucas", "Martin"), ("Sakura", "Tanaka"), ("Noah", "Miller")]
STATUSES = ["TRADE_SUCCESS"] * 5 + ["WAIT_SELLER_SEND_GOODS", "TRADE_CHECKIN", "TRADE_FINISHED",
                                    "TRADE_CLOSED", "WAIT_BUYER_PAY"]  # fmt: skip
MESSAGES = ["", "", "晚到，请保留房间", "高楼层，远离电梯", "需要婴儿床", "late arrival around 23:00"]


def invent_orders(
    n: int, *, hid: str = "5001", now: datetime | None = None, days: int = 120, seed: int = 8
) -> list[dict[str, Any]]:
    """``n`` invented XHotelOrder objects created over the ``days`` before ``now``, oldest first."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).astimezone(GMT8).replace(microsecond=0)
    span = timedelta(days=days).total_seconds()
    orders = []
    for i in range(n):
        created = now - timedelta(seconds=span * (n - i) / (n + 1)) - timedelta(seconds=rng.randrange(600))
        checkin = (created + timedelta(days=rng.randrange(1, 45))).date()
        nights = rng.choice([1, 1, 2, 3, 5])
        night_fen = rng.randrange(380, 2200) * 100 + rng.choice([0, 50])
        style = rng.random()
        (sc, sp), (gc, gp) = rng.choice(SURNAMES), rng.choice(GIVEN)
        if style < 0.5:
            name = sc + gc
        elif style < 0.8:
            name = f"{sp}/{gp}"  # pinyin as on a passport: SURNAME/GIVEN
        else:
            given, surname = rng.choice(LATIN)
            name = f"{surname.upper()}/{given.upper()}"
        guests = [{"name": name, "room_pos": 1, "person_pos": 1}]
        if rng.random() < 0.3:
            (sc2, _), (gc2, _) = rng.choice(SURNAMES), rng.choice(GIVEN)
            guests.append({"name": sc2 + gc2, "room_pos": 1, "person_pos": 2})
        order = {
            "tid": 3_100_000_000_000 + i * 7919,
            "oid": 4_200_000_000_000 + i * 7919,
            "hid": int(hid),
            "rid": 800_000 + rng.randrange(4),
            "rpid": 9_000_000 + rng.randrange(6),
            "checkin_date": checkin.isoformat(),
            "checkout_date": (checkin + timedelta(days=nights)).isoformat(),
            "nights": nights,
            "room_number": 1,
            "guests": {"x_order_guest": guests},
            "contact_name": guests[0]["name"],
            "contact_phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            "buyer_nick": f"tb{rng.randrange(10**8):08d}",
            "message": rng.choice(MESSAGES),
            "prices": {"number": [night_fen] * nights},
            "total_room_price": night_fen * nights,
            "payment": night_fen * nights,
            "type": rng.choice([1, 1, 5]),
            "created": created.strftime(TOP_TIME),
            "modified": (created + timedelta(minutes=rng.randrange(1, 90))).strftime(TOP_TIME),
            "trade_status": rng.choice(STATUSES),
            "refund_status": 9,
        }
        orders.append({k: v for k, v in order.items() if v != ""})
    return orders


def _error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "msg": msg}
    if sub_code:
        body["sub_code"] = sub_code
    if sub_msg:
        body["sub_msg"] = sub_msg
    body["request_id"] = uuid.uuid4().hex[:13]
    return {"error_response": body}


class TopGatewaySimulator:
    """``with TopGatewaySimulator(...) as sim:`` serves at ``sim.url`` until the block ends."""

    def __init__(
        self,
        *,
        app_key: str = "23456789",
        app_secret: str = "sim-secret-not-real",
        session_key: str = "sim-session-not-real",
        orders: Iterable[dict[str, Any]] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.app_key, self.app_secret, self.session_key = app_key, app_secret, session_key
        self.orders: list[dict[str, Any]] = list(orders)
        self.clock = clock
        self.searches: list[dict[str, str]] = []  # accepted order.search parameters, in order
        self.refusals: list[int] = []  # error codes answered
        self._failures: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._http = LoopbackServer(
            self._handler(), owner=self, path="/router/rest", name="top-gateway", bind=False
        )

    # -- control ------------------------------------------------------------------------
    def fail_next(self, n: int = 1, *, ban_seconds: int = 0) -> None:
        """Answer the next ``n`` well-signed calls with TOP's rate-limit error (code 7)."""
        err = _error(
            7,
            "App Call Limited",
            "accesscontrol.limited-by-app-access-count",
            f"This ban will last for {ban_seconds} more seconds",
        )
        with self._lock:
            self._failures.extend([err] * n)

    def update(self, tid: int, **fields: Any) -> None:
        """Change an order as Fliggy would (e.g. its trade_status); ``modified`` becomes now."""
        with self._lock:
            for o in self.orders:
                if o["tid"] == tid:
                    o.update(fields)
                    o["modified"] = top_time(self.clock())
                    return
        raise KeyError(tid)

    # -- serving ------------------------------------------------------------------------
    def bind(self) -> str:
        """Listen on 127.0.0.1 and a free port (without serving yet); returns the URL."""
        return self._http.bind().url

    @property
    def url(self) -> str:
        return self._http.url

    def start(self) -> TopGatewaySimulator:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> TopGatewaySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the gateway --------------------------------------------------------------------
    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        """TOP's answer to one request's parameters (system and business together)."""
        refusal = self._check(params)
        if refusal is not None:
            with self._lock:
                self.refusals.append(refusal["error_response"]["code"])
            return refusal
        with self._lock:
            if self._failures:
                self.refusals.append(7)
                return self._failures.pop(0)
        return self._search(params)

    def _check(self, p: dict[str, str]) -> dict[str, Any] | None:
        if not p.get("method"):
            return _error(21, "Missing method")
        if not p.get("app_key"):
            return _error(28, "Missing app key")
        if p["app_key"] != self.app_key:
            return _error(29, "Invalid app Key")
        if not p.get("timestamp"):
            return _error(30, "Missing timestamp")
        try:
            ts = parse_top_time(p["timestamp"])
        except ValueError:
            return _error(31, "Invalid timestamp")
        if abs(ts - self.clock()) > MAX_SKEW:
            return _error(
                31, "Invalid timestamp", "isv.invalid-timestamp", "时间戳与服务器时间相差超过10分钟"
            )
        if not p.get("sign"):
            return _error(24, "Missing signature")
        if p.get("sign_method", "md5") not in SIGN_METHODS or not verify(p, self.app_secret):
            return _error(25, "Invalid signature")
        if p.get("format", "xml") != "json":
            return _error(23, "Invalid format", "isv.invalid-format", "simulator speaks format=json only")
        if p.get("v") != "2.0":
            return _error(34, "Unsupported version")
        if p["method"] != SEARCH:
            return _error(22, "Invalid method")
        if not p.get("session"):
            return _error(26, "Missing session")
        if p["session"] != self.session_key:
            return _error(27, "Invalid session", "invalid-sessionkey", "session已过期或不存在")
        return None

    def _search(self, p: dict[str, str]) -> dict[str, Any]:
        for key in ("created_start", "created_end"):
            if not p.get(key):
                return _error(40, f"Missing required arguments:{key}")
        try:
            start, end = parse_top_time(p["created_start"]), parse_top_time(p["created_end"])
            page = int(p.get("page_no", "1"))
        except ValueError:
            return _error(41, "Invalid arguments", "isv.invalid-parameter", "非法参数")
        if end < start or end - start > MAX_SPAN or page < 1:
            return _error(50, "Remote service error", "isv.invalid-parameter", "创建时间跨度不能超过30天")
        with self._lock:
            self.searches.append(dict(p))
            hits = [o for o in self.orders if start <= parse_top_time(o["created"]) <= end]
            statuses = set(filter(None, p.get("trade_status", "").split(",")))
            if statuses:
                hits = [o for o in hits if o["trade_status"] in statuses]
            hits.sort(key=lambda o: (o["created"], o["tid"]))
            chunk = json.loads(json.dumps(hits[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]))
        body: dict[str, Any] = {"total_results": len(hits), "request_id": uuid.uuid4().hex[:13]}
        if chunk:  # TOP leaves an empty list out altogether
            body["hotel_orders"] = {"x_hotel_order": chunk}
        return {response_key(SEARCH): body}

    def _handler(self) -> type[QuietHandler]:
        sim = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.0"  # one request per connection, as this simulator always served

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._reply(413, _error(41, "Invalid arguments", "isv.request-too-large"))
                    return
                form = self.rfile.read(length).decode("utf-8", errors="replace")
                params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
                params.update(parse_qsl(form, keep_blank_values=True))
                self._reply(200, sim.answer(params))

        return Handler
