"""A loopback Oracle Simphony BI API: OpenID Connect sign-in, guest checks, dimensions.

Speaks the wire shapes of R&A 20.1 as far as the public docs show them (see
``shared/notes/ota-and-pos.md`` §4): the ``oidc-provider`` authorize / signin / token steps
with PKCE, ``POST /bi/v1/{org}/getLatestBusinessDate``, ``getGuestChecks`` (``busDt`` |
``opnBusDt`` | ``clsdBusDt``, ``changedSinceUTC``) and the ``get*Dimensions`` calls. Checks
carry numbers only (``miNum``, ``tmedNum``, ``rvcNum``), as the real API does. Binds to
127.0.0.1 on a free port and serves from a thread; ``with SimphonySimulator() as sim:``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crmbridge.testing.server import LoopbackServer, QuietHandler

OIDC = "/oidc-provider/v1"
MAX_BODY = 1 << 20
CST = timedelta(hours=8)  # the simulated hotel's local offset (Asia/Shanghai)


def fmt_utc(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def fmt_lcl(ts: datetime) -> str:
    return (ts.astimezone(UTC) + CST).strftime("%Y-%m-%dT%H:%M:%S")


def parse_utc(s: str) -> datetime:
    ts = datetime.fromisoformat(s.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


@dataclass
class Location:
    loc_ref: str
    latest_bus_dt: date
    menu_items: list[dict[str, Any]] = field(default_factory=list)
    tender_medias: list[dict[str, Any]] = field(default_factory=list)
    revenue_centers: list[dict[str, Any]] = field(default_factory=list)
    discounts: list[dict[str, Any]] = field(default_factory=list)
    service_charges: list[dict[str, Any]] = field(default_factory=list)
    checks: dict[int, dict[str, Any]] = field(default_factory=dict)  # guestCheckId -> check


@dataclass
class _Token:
    expires: datetime
    refresh: str


class SimphonySimulator:
    """In-memory BI API. Tests add checks, move the clock, revoke tokens, inject faults."""

    def __init__(
        self,
        *,
        org: str = "HTLORG",
        username: str = "crm_bi_api",
        password: str = "sim-password",
        client_id: str = "SIMPHONY.BI.CRM",
        token_ttl: timedelta = timedelta(days=14),
        clock: Callable[[], datetime] | None = None,
    ):
        self.org, self.username, self.password, self.client_id = org, username, password, client_id
        self.token_ttl = token_ttl
        self.clock = clock or (lambda: datetime.now(UTC))
        self.locations: dict[str, Location] = {}
        self.lock = threading.Lock()
        self._sessions: dict[str, dict[str, str]] = {}  # cookie -> authorize params
        self._codes: dict[str, tuple[str, str]] = {}  # code -> (challenge, redirect_uri)
        self._tokens: dict[str, _Token] = {}
        self._refresh: dict[str, bool] = {}
        self.faults: list[int] = []  # HTTP statuses to answer BI calls with, in order
        self.stats: dict[str, int] = {"signin": 0, "token_code": 0, "token_refresh": 0, "rejected_401": 0}
        self.calls: list[tuple[str, dict[str, Any]]] = []  # (BI endpoint, request body)
        self._http = LoopbackServer(_Handler, owner=self, name="simphony-sim", bind=False)

    # -- data ----------------------------------------------------------------------------
    def location(self, loc_ref: str, latest_bus_dt: date) -> Location:
        loc = self.locations.setdefault(loc_ref, Location(loc_ref, latest_bus_dt))
        loc.latest_bus_dt = latest_bus_dt
        return loc

    def put_check(self, loc_ref: str, check: dict[str, Any], updated: datetime | None = None) -> None:
        """Add or replace a check; ``lastUpdatedUTC`` becomes ``updated`` (default: now)."""
        ts = updated or self.clock()
        c = copy.deepcopy(check)
        c["lastUpdatedUTC"], c["lastUpdatedLcl"] = fmt_utc(ts), fmt_lcl(ts)
        with self.lock:
            self.locations[loc_ref].checks[int(c["guestCheckId"])] = c

    def revoke_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._http.url

    def bind(self) -> SimphonySimulator:
        """Take a free loopback port now (so ``url`` is known before serving starts)."""
        self._http.bind()
        return self

    def start(self) -> SimphonySimulator:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> SimphonySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- OpenID Connect ------------------------------------------------------------------
    def authorize(self, q: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return (
                400,
                {"error": "invalid_request", "error_description": "unknown client or response type"},
                {},
            )
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return 400, {"error": "invalid_request", "error_description": "PKCE S256 required"}, {}
        sid = secrets.token_urlsafe(16)
        with self.lock:
            self._sessions[sid] = q
        return 200, {"nextOp": "signin"}, {"Set-Cookie": f"JSESSIONID={sid}; Path=/; HttpOnly"}

    def signin(self, form: dict[str, str], cookie: str | None) -> tuple[int, dict[str, Any]]:
        with self.lock:
            session = self._sessions.pop(cookie or "", None)
        if session is None:
            return 400, {"success": "false", "nextOp": "error", "error": "no authorize session"}
        ok = (
            secrets.compare_digest(form.get("username", ""), self.username)
            and secrets.compare_digest(form.get("password", ""), self.password)
            and form.get("orgname") == self.org
        )
        if not ok:
            return 401, {"success": "false", "nextOp": "error", "error": "invalid credentials"}
        self.stats["signin"] += 1
        code = secrets.token_urlsafe(24)
        with self.lock:
            self._codes[code] = (session["code_challenge"], session.get("redirect_uri", ""))
        return 200, {
            "nextOp": "redirect",
            "success": "true",
            "redirectUrl": f"apiaccount://callback?code={code}",
        }

    def _issue(self) -> dict[str, Any]:
        token, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.lock:
            self._tokens[token] = _Token(self.clock() + self.token_ttl, refresh)
            self._refresh[refresh] = True
        ttl = int(self.token_ttl.total_seconds())
        return {
            "access_token": token,
            "id_token": token,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": ttl,
        }

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self.lock:
                found = self._codes.pop(form.get("code", ""), None)
            if found is None:
                return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
            challenge = _s256(form.get("code_verifier", ""))
            if not secrets.compare_digest(challenge, found[0]):
                return 400, {"error": "invalid_grant", "error_description": "code_verifier mismatch"}
            self.stats["token_code"] += 1
            return 200, self._issue()
        if grant == "refresh_token":
            with self.lock:
                ok = self._refresh.pop(form.get("refresh_token", ""), False)
            if not ok:
                return 400, {"error": "invalid_grant", "error_description": "refresh token invalid"}
            self.stats["token_refresh"] += 1
            return 200, self._issue()
        return 400, {"error": "unsupported_grant_type"}

    def authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        with self.lock:
            tok = self._tokens.get(header[7:])
        return tok is not None and self.clock() < tok.expires

    # -- BI API --------------------------------------------------------------------------
    def bi(self, endpoint: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.calls.append((endpoint, body))
        loc = self.locations.get(str(body.get("locRef", "")))
        if loc is None:
            return 400, {"message": "locRef is required and must name a location of the organization"}
        now = fmt_utc(self.clock())
        dims = {
            "getMenuItemDimensions": ("menuItems", loc.menu_items),
            "getTenderMediaDimensions": ("tenderMedias", loc.tender_medias),
            "getRevenueCenterDimensions": ("revenueCenters", loc.revenue_centers),
            "getDiscountDimensions": ("discounts", loc.discounts),
            "getServiceChargeDimensions": ("serviceCharges", loc.service_charges),
        }
        if endpoint in dims:
            key, rows = dims[endpoint]
            return 200, {"locRef": loc.loc_ref, key: copy.deepcopy(rows)}
        if endpoint == "getLatestBusinessDate":
            return 200, {"curUTC": now, "locRef": loc.loc_ref, "latestBusDt": loc.latest_bus_dt.isoformat()}
        if endpoint == "getGuestChecks":
            return self._guest_checks(loc, body, now)
        return 404, {"message": f"unknown operation {endpoint}"}

    def _guest_checks(self, loc: Location, body: dict[str, Any], now: str) -> tuple[int, dict[str, Any]]:
        given = [k for k in ("busDt", "opnBusDt", "clsdBusDt") if body.get(k)]
        if len(given) != 1:
            return 400, {"message": "exactly one of busDt, opnBusDt, clsdBusDt is required"}
        key, day = given[0], str(body[given[0]])
        since = parse_utc(body["changedSinceUTC"]) if body.get("changedSinceUTC") else None
        out = []
        with self.lock:
            checks = [copy.deepcopy(c) for c in loc.checks.values()]
        for c in sorted(checks, key=lambda c: c["guestCheckId"]):
            # busDt is the superset: checks opened or closed on that date.
            match = day in (c.get("opnBusDt"), c.get("clsdBusDt")) if key == "busDt" else c.get(key) == day
            if match and (since is None or parse_utc(c["lastUpdatedUTC"]) > since):
                out.append(c)
        return 200, {"curUTC": now, "locRef": loc.loc_ref, "guestChecks": out}


def _number(v: Any) -> Any:
    # Written as a plain JSON number, as the real API does; two-decimal amounts survive the
    # float's shortest repr exactly and the client parses them back into Decimal.
    if isinstance(v, Decimal):
        return float(v)
    raise TypeError(type(v).__name__)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class _Handler(QuietHandler):
    @property
    def simulator(self) -> SimphonySimulator:
        return self.owner

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, default=_number).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes | None:
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            return None
        return self.rfile.read(n) if n else b""

    def do_GET(self) -> None:
        sim = self.simulator
        parts = urlsplit(self.path)
        if parts.path == f"{OIDC}/.well-known/openid-configuration":
            base = f"http://{self.headers.get('Host')}{OIDC}"
            self._send(
                200,
                {
                    "issuer": base,
                    "authorization_endpoint": f"{base}/oauth2/authorize",
                    "token_endpoint": f"{base}/oauth2/token",
                    "code_challenge_methods_supported": ["S256"],
                    "grant_types_supported": ["authorization_code", "refresh_token"],
                },
            )
            return
        if parts.path == f"{OIDC}/oauth2/authorize":
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, body, headers = sim.authorize(q)
            self._send(status, body, headers)
            return
        self._send(404, {"message": "not found"})

    def do_POST(self) -> None:
        sim = self.simulator
        raw = self._body()
        if raw is None:
            self._send(413, {"message": "request too large"})
            return
        path = urlsplit(self.path).path
        if path in (f"{OIDC}/oauth2/signin", f"{OIDC}/oauth2/token"):
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
            if path.endswith("signin"):
                cookie = SimpleCookie(self.headers.get("Cookie") or "")
                sid = cookie["JSESSIONID"].value if "JSESSIONID" in cookie else None
                self._send(*sim.signin(form, sid))
            else:
                self._send(*sim.token(form))
            return
        prefix = f"/bi/v1/{sim.org}/"
        if not path.startswith(prefix):
            self._send(404, {"message": "not found"})
            return
        if not sim.authorised(self.headers.get("Authorization")):
            sim.stats["rejected_401"] += 1
            self._send(401, {"message": "Unauthorized: token missing, invalid or expired"})
            return
        with sim.lock:
            fault = sim.faults.pop(0) if sim.faults else None
        if fault is not None:
            self._send(fault, {"message": "simulated fault"})
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send(400, {"message": "body is not JSON"})
            return
        self._send(*sim.bi(path[len(prefix) :], body if isinstance(body, dict) else {}))


# -- invented data: a hotel restaurant and bar, for tests and `crmbridge demo` ------------------

_GROUPS = {
    21: (2, "Beverage", "Tea"), 22: (2, "Beverage", "Coffee"), 23: (2, "Beverage", "Beer"),
    11: (1, "Food", "Hot Dishes 热菜"), 12: (1, "Food", "Roast 烧烤"), 13: (1, "Food", "Dim Sum 点心"),
    91: (9, "Condiments", "Condiments"),
}  # fmt: skip
_ITEMS = [
    (1001, "Tieguanyin Tea 铁观音", 21), (1002, "Americano 美式咖啡", 22),
    (1003, "Tsingtao Beer 青岛啤酒", 23), (2001, "Mapo Tofu (vegetarian) 素麻婆豆腐", 11),
    (2002, "Stir-fried Greens 清炒时蔬 (vegetarian)", 11), (2003, "Peking Duck 北京烤鸭", 12),
    (2004, "Xiaolongbao 小笼包", 13), (9001, "Extra Chili 加辣", 91),
]  # fmt: skip
MENU: list[dict[str, Any]] = [
    {
        "num": num,
        "name": name,
        "majGrpNum": _GROUPS[fam][0],
        "majGrpName": _GROUPS[fam][1],
        "famGrpNum": fam,
        "famGrpName": _GROUPS[fam][2],
    }
    for num, name, fam in _ITEMS
]
TENDERS: list[dict[str, Any]] = [
    {"num": 1, "name": "Cash 现金", "type": 1},
    {"num": 10, "name": "Room Charge 挂房账", "type": 4},
    {"num": 20, "name": "WeChat Pay 微信支付", "type": 3},
]
RVCS: list[dict[str, Any]] = [
    {"num": 10, "name": "Jade Garden 翡翠轩"},
    {"num": 20, "name": "Lobby Bar 大堂吧"},
]
DISCOUNTS: list[dict[str, Any]] = [{"num": 3, "name": "Member 10% 会员九折"}]
SERVICE_CHARGES: list[dict[str, Any]] = [{"num": 1, "name": "Service Charge 15% 服务费"}]
PRICES = {
    1001: Decimal("68.00"), 1002: Decimal("48.00"), 1003: Decimal("38.00"), 2001: Decimal("88.00"),
    2002: Decimal("58.00"), 2003: Decimal("298.00"), 2004: Decimal("42.00"), 9001: Decimal("0.00"),
}  # fmt: skip


def stock_location(sim: SimphonySimulator, loc_ref: str, latest: date) -> Location:
    loc = sim.location(loc_ref, latest)
    loc.menu_items, loc.tender_medias, loc.revenue_centers = list(MENU), list(TENDERS), list(RVCS)
    loc.discounts, loc.service_charges = list(DISCOUNTS), list(SERVICE_CHARGES)
    return loc


def guest_check(
    check_id: int,
    chk_num: int,
    *,
    rvc: int,
    opened: datetime,
    closed: datetime | None,
    bus_dt: date,
    items: list[tuple[int, int]],
    tender: int = 10,
    room: str | None = None,
    discount_pct: int = 0,
    service_pct: int = 0,
    voided_lines: tuple[int, ...] = (),
    returned: list[tuple[int, int]] | None = None,
    chk_name: str | None = None,
    guests: int = 1,
    prices: dict[int, Decimal] | None = None,
) -> dict[str, Any]:
    """A guest check in the BI JSON shape: menu item lines (``(miNum, qty)``), optional
    discount and service charge, returns, and one tender line paying the balance.
    ``prices`` overrides menu prices (an open-priced item, as a set menu is rung up)."""
    prices = PRICES | (prices or {})
    lines: list[dict[str, Any]] = []
    t = opened

    def line(kind: str, body: dict[str, Any], qty: Decimal, ttl: Decimal, **flags: Any) -> dict[str, Any]:
        n = len(lines) + 1
        row = {
            "guestCheckLineItemId": check_id * 100 + n,
            "lineNum": n,
            "dtlId": n,
            "parDtlId": flags.pop("par", None),
            "detailUTC": fmt_utc(t),
            "detailLcl": fmt_lcl(t),
            "busDt": bus_dt.isoformat(),
            "wsNum": 3,
            "dspTtl": ttl,
            "dspQty": qty,
            "aggTtl": ttl,
            "aggQty": qty,
            "chkEmpNum": 5001,
            "vdFlag": flags.get("vd", False),
            "errCorFlag": False,
            "returnFlag": flags.get("ret", False),
            "refInfo1": flags.get("ref"),
            "refInfo2": None,
            kind: body,
        }
        lines.append(row)
        return row

    sub = Decimal(0)
    for mi, qty in items:
        ttl = prices[mi] * qty
        voided = len(lines) + 1 in voided_lines
        line("menuItem", {"miNum": mi, "modFlag": False, "prcLvl": 1}, Decimal(qty), ttl, vd=voided)
        if not voided:
            sub += ttl
    for mi, qty in returned or []:
        ttl = prices[mi] * qty
        line("menuItem", {"miNum": mi, "modFlag": False, "prcLvl": 1}, Decimal(-qty), -ttl, ret=True)
        sub -= ttl
    dsc = (-sub * discount_pct / 100).quantize(Decimal("0.01"))
    if discount_pct:
        line("discount", {"dscNum": 3}, Decimal(1), dsc)
    svc = ((sub + dsc) * service_pct / 100).quantize(Decimal("0.01"))
    if service_pct:
        line("serviceCharge", {"svcChgNum": 1}, Decimal(1), svc)
    total = sub + dsc + svc
    line("tenderMedia", {"tmedNum": tender}, Decimal(1), total, ref=room if tender == 10 else None)
    return {
        "guestCheckId": check_id,
        "chkNum": chk_num,
        "chkName": chk_name,
        "opnBusDt": bus_dt.isoformat(),
        "opnUTC": fmt_utc(opened),
        "opnLcl": fmt_lcl(opened),
        "clsdBusDt": bus_dt.isoformat() if closed else None,
        "clsdUTC": fmt_utc(closed) if closed else None,
        "clsdLcl": fmt_lcl(closed) if closed else None,
        "clsdFlag": closed is not None,
        "cancelFlag": False,
        "gstCnt": guests,
        "subTtl": sub,
        "autoSvcTtl": Decimal(0),
        "svcChgTtl": svc,
        "dscTtl": dsc,
        "chkTtl": total,
        "payTtl": total,
        "tipTotal": Decimal(0),
        "balDueTtl": None,
        "rvcNum": rvc,
        "otNum": 1,
        "tblNum": 12,
        "tblName": "12",
        "empNum": 5001,
        "taxes": [{"taxNum": 1, "txblSlsTtl": total, "taxCollTtl": Decimal(0), "taxRate": 6, "type": 2}],
        "detailLines": lines,
    }
