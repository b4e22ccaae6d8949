"""Wire formats to canonical ``PosCheck``: Simphony BI guest checks and flat POS file rows.

Both mappers return a plain dict for ``validate_into`` or raise ``Malformed`` with a reason
that names fields, never values (the raw record goes to quarantine encrypted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from .client import Dimensions

ROOM_CHARGE_WORDS = ("room charge", "room chg", "roomcharge", "挂房账", "转房账", "房账", "挂账到房")
ROOM_NUMBER = re.compile(r"^[A-Z]?\d{3,5}[A-Z]?$")
TRUE_WORDS = {"1", "true", "yes", "y", "t", "是", "x"}


class Malformed(ValueError):
    """A record that cannot be mapped; the message names fields only."""


def _dec(v: Any, field: str, *, required: bool = True) -> Decimal | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise Malformed(f"{field} is missing")
        return None
    if isinstance(v, bool):
        raise Malformed(f"{field} is not a number")
    try:
        d = Decimal(str(v).strip().replace(",", ""))
    except InvalidOperation:
        raise Malformed(f"{field} is not a number") from None
    if not d.is_finite():
        raise Malformed(f"{field} is not a number")
    return d


def _money(v: Any, currency: str, field: str, *, required: bool = True) -> dict[str, Any] | None:
    d = _dec(v, field, required=required)
    return None if d is None else {"amount": d.quantize(Decimal("0.01")), "currency": currency}


def _utc(s: Any) -> str | None:
    """BI times are naive UTC strings (``opnUTC``); make the zone explicit."""
    if not s:
        return None
    return f"{s}+00:00" if "+" not in str(s)[10:] and not str(s).endswith("Z") else str(s)


def business_date_of(local: datetime, day_start: time) -> date:
    """The business date of a local time: before the rollover hour it is still yesterday."""
    shifted = local - timedelta(hours=day_start.hour, minutes=day_start.minute)
    return shifted.date()


def is_room_charge(num: int, name: str, configured: set[int]) -> bool:
    if configured:
        return num in configured
    lowered = name.casefold()
    return any(w in lowered for w in ROOM_CHARGE_WORDS)


def _room(v: Any) -> str | None:
    s = str(v or "").strip().upper()
    return s if ROOM_NUMBER.match(s) else None


def map_guest_check(
    raw: dict[str, Any],
    dims: Dimensions,
    *,
    source: str,
    loc_ref: str,
    hotel_code: str,
    currency: str,
    room_charge_tenders: set[int],
    business_day_start: time,
) -> dict[str, Any]:
    """One BI ``guestChecks[]`` element to the canonical check shape."""
    gcid = raw.get("guestCheckId")
    if gcid is None or isinstance(gcid, bool) or not str(gcid).strip().isdigit():
        raise Malformed("guestCheckId is missing or not a number")
    rvc = raw.get("rvcNum")
    rvc_name = dims.revenue_centers.get(rvc, {}).get("name") if isinstance(rvc, int) else None
    bus = raw.get("clsdBusDt") or raw.get("opnBusDt")
    if not bus and raw.get("opnLcl"):
        try:
            bus = business_date_of(datetime.fromisoformat(str(raw["opnLcl"])), business_day_start).isoformat()
        except ValueError:
            raise Malformed("opnLcl is not a date-time") from None
    items: list[dict[str, Any]] = []
    tenders: list[dict[str, Any]] = []
    room_number: str | None = None
    lines = raw.get("detailLines") or []
    if not isinstance(lines, list):
        raise Malformed("detailLines is not a list")
    for n, line in enumerate(lines):
        where = f"detailLines[{n}]"
        if not isinstance(line, dict):
            raise Malformed(f"{where} is not an object")
        voided = bool(line.get("vdFlag")) or bool(line.get("errCorFlag"))
        returned = bool(line.get("returnFlag"))
        qty = _dec(line.get("dspQty", 1), f"{where}.dspQty") or Decimal(0)
        amount = _dec(line.get("dspTtl"), f"{where}.dspTtl") or Decimal(0)
        if returned and qty > 0:  # a return takes back what was sold
            qty, amount = -qty, -amount
        common = {
            "line_id": str(line.get("dtlId") or line.get("lineNum") or n + 1),
            "parent_line_id": str(line["parDtlId"]) if line.get("parDtlId") else None,
            "quantity": qty,
            "amount": {"amount": amount.quantize(Decimal("0.01")), "currency": currency},
            "voided": voided,
            "returned": returned,
        }
        if isinstance(line.get("menuItem"), dict):
            num = line["menuItem"].get("miNum")
            dim = dims.menu_items.get(num, {}) if isinstance(num, int) else {}
            group = dim.get("famGrpName") or dim.get("majGrpName")
            items.append(
                {
                    **common,
                    "kind": "item",
                    "item_id": str(num),
                    "name": dim.get("name") or f"MI {num}",
                    "group": group,
                }
            )
        elif isinstance(line.get("discount"), dict):
            num = line["discount"].get("dscNum")
            dim = dims.discounts.get(num, {}) if isinstance(num, int) else {}
            items.append(
                {**common, "kind": "discount", "item_id": str(num), "name": dim.get("name") or f"DSC {num}"}
            )
        elif isinstance(line.get("serviceCharge"), dict):
            num = line["serviceCharge"].get("svcChgNum")
            dim = dims.service_charges.get(num, {}) if isinstance(num, int) else {}
            items.append(
                {
                    **common,
                    "kind": "service_charge",
                    "item_id": str(num),
                    "name": dim.get("name") or f"SVC {num}",
                }
            )
        elif isinstance(line.get("tenderMedia"), dict):
            num = line["tenderMedia"].get("tmedNum")
            dim = dims.tender_media.get(num, {}) if isinstance(num, int) else {}
            name = dim.get("name") or f"TMED {num}"
            charge = isinstance(num, int) and is_room_charge(num, name, room_charge_tenders)
            tenders.append(
                {
                    "tender_id": str(num),
                    "name": name,
                    "amount": common["amount"],
                    "room_charge": charge,
                    "voided": voided,
                }
            )
            # Where the site's interface puts the room number is configuration-dependent.
            if charge and not voided:
                room_number = room_number or _room(line.get("refInfo1")) or _room(line.get("refInfo2"))
    notes = [str(i) for i in raw.get("chkInfo") or [] if isinstance(i, str) and i.strip()]
    return {
        "source": source,
        "source_id": f"{loc_ref}:{gcid}",
        "updated_at": _utc(raw.get("lastUpdatedUTC")),
        "hotel_code": hotel_code,
        "outlet": rvc_name or (f"RVC {rvc}" if rvc is not None else loc_ref),
        "outlet_id": str(rvc) if rvc is not None else None,
        "check_number": str(raw["chkNum"]) if raw.get("chkNum") is not None else None,
        "business_date": bus,
        "opened_at": _utc(raw.get("opnUTC")),
        "closed_at": _utc(raw.get("clsdUTC")) if raw.get("clsdFlag", True) else None,
        "room_number": room_number,
        "covers": raw.get("gstCnt"),
        "total": _money(raw.get("chkTtl"), currency, "chkTtl"),
        "subtotal": _money(raw.get("subTtl"), currency, "subTtl", required=False),
        "discount_total": _money(raw.get("dscTtl"), currency, "dscTtl", required=False),
        "service_charge_total": _money(
            (_dec(raw.get("svcChgTtl"), "svcChgTtl", required=False) or 0)
            + (_dec(raw.get("autoSvcTtl"), "autoSvcTtl", required=False) or 0),
            currency,
            "svcChgTtl",
        ),
        "tip_total": _money(raw.get("tipTotal"), currency, "tipTotal", required=False),
        "cancelled": bool(raw.get("cancelFlag")),
        "guest_name": str(raw["chkName"]).strip() or None if raw.get("chkName") else None,
        "notes": notes,
        "items": items,
        "tenders": tenders,
    }


# -- POS file exports --------------------------------------------------------------------------

FILE_FIELDS = (
    "check_id", "check_number", "outlet", "business_date", "opened_at", "closed_at",
    "room_number", "covers", "check_total", "currency", "guest_name", "note", "line_type",
    "item_id", "item_name", "item_group", "quantity", "amount", "void", "return", "room_charge",
    "updated_at",
)  # fmt: skip
LINE_TYPES = {"item", "discount", "service_charge", "tender"}


def _truthy(v: Any) -> bool:
    return str(v or "").strip().casefold() in TRUE_WORDS


def _local_ts(v: Any, tz: tzinfo, field: str) -> datetime | None:
    if v is None or not str(v).strip():
        return None
    try:
        ts = datetime.fromisoformat(str(v).strip().replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(f"{field} is not a date-time") from None
    return ts.replace(tzinfo=tz) if ts.tzinfo is None else ts


def map_file_check(
    rows: Iterable[dict[str, Any]],
    *,
    source: str,
    hotel_code: str,
    currency: str,
    tz: tzinfo,
    business_day_start: time,
    room_charge_tenders: set[str],
) -> dict[str, Any]:
    """The rows of one check (already renamed to canonical field names) to a check."""
    rows = list(rows)
    head: dict[str, Any] = {}
    for r in rows:
        for k, v in r.items():
            if k not in head and v is not None and str(v).strip():
                head[k] = v
    cid = str(head.get("check_id", "")).strip()
    if not cid:
        raise Malformed("check_id is missing")
    cur = str(head.get("currency") or currency).strip().upper()
    opened = _local_ts(head.get("opened_at"), tz, "opened_at")
    closed = _local_ts(head.get("closed_at"), tz, "closed_at")
    bus = head.get("business_date")
    if not bus:
        stamp = closed or opened
        if stamp is None:
            raise Malformed("business_date is missing and there is no time to derive it from")
        bus = business_date_of(stamp.astimezone(tz).replace(tzinfo=None), business_day_start).isoformat()
    items: list[dict[str, Any]] = []
    tenders: list[dict[str, Any]] = []
    for n, r in enumerate(rows):
        kind = str(r.get("line_type") or "item").strip().lower().replace(" ", "_")
        if kind not in LINE_TYPES:
            raise Malformed(f"line {n + 1}: line_type is not one of {', '.join(sorted(LINE_TYPES))}")
        if not str(r.get("item_name") or "").strip() and r.get("amount") in (None, ""):
            continue  # a header-only row
        amount = _dec(r.get("amount"), f"line {n + 1}: amount") or Decimal(0)
        qty = _dec(r.get("quantity"), f"line {n + 1}: quantity", required=False)
        qty = Decimal(1) if qty is None else qty
        returned = _truthy(r.get("return"))
        if returned and qty > 0:
            qty, amount = -qty, -amount
        money = {"amount": amount.quantize(Decimal("0.01")), "currency": cur}
        name = str(r.get("item_name") or "").strip()
        if kind == "tender":
            charge = _truthy(r.get("room_charge")) or name.casefold() in room_charge_tenders
            tenders.append(
                {
                    "tender_id": str(r.get("item_id") or name),
                    "name": name or "tender",
                    "amount": money,
                    "room_charge": charge,
                    "voided": _truthy(r.get("void")),
                }
            )
            continue
        items.append(
            {
                "kind": kind,
                "line_id": str(n + 1),
                "item_id": str(r.get("item_id") or name),
                "name": name or kind,
                "group": str(r["item_group"]).strip() if r.get("item_group") else None,
                "quantity": qty,
                "amount": money,
                "voided": _truthy(r.get("void")),
                "returned": returned,
            }
        )
    room = str(head.get("room_number") or "").strip().upper() or None
    return {
        "source": source,
        "source_id": cid,
        "updated_at": (_local_ts(head.get("updated_at"), tz, "updated_at") or closed or opened),
        "hotel_code": hotel_code,
        "outlet": str(head.get("outlet") or "").strip() or None,
        "check_number": str(head["check_number"]).strip() if head.get("check_number") else None,
        "business_date": bus,
        "opened_at": opened,
        "closed_at": closed,
        "room_number": room,
        "covers": head.get("covers"),
        "total": _money(head.get("check_total"), cur, "check_total"),
        "guest_name": str(head["guest_name"]).strip() if head.get("guest_name") else None,
        "notes": [str(head["note"]).strip()] if head.get("note") else [],
        "items": items,
        "tenders": tenders,
    }


def utc_now() -> datetime:
    return datetime.now(UTC)
