"""POS linking benchmark: a hotel's weeks of stays, folio postings and restaurant checks.

    python benchmarks/pos_linking.py                  # 400 rooms, 30 days
    python benchmarks/pos_linking.py --rooms 800 --days 60 --pg postgresql://…/scratch_db

Writes invented reservations (one stay per room and stay, half of them without actual times,
as an OPERA stay comes), folio postings for two checks in three, and checks (room charges and
walk-ins) into a fresh SQLite file (or the given PostgreSQL database), then times the first
linking pass, the dining insights, and a second pass that finds nothing to change.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from crmbridge.insights.dining import refresh_dining_insights
from crmbridge.models import FolioLine, PosCheck, Reservation, Stay, validate_record
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.pos_links import link_pos_checks

MENU = [("Tieguanyin Tea 铁观音", "Tea", "68.00"), ("Peking Duck 北京烤鸭", "Roast", "298.00"),
        ("Xiaolongbao 小笼包", "Dim Sum", "42.00"), ("Tsingtao Beer 青岛啤酒", "Beer", "38.00"),
        ("Mapo Tofu (vegetarian)", "Hot Dishes", "88.00")]  # fmt: skip


def generate(rooms: int, days: int, seed: int = 3) -> tuple[list, list, list, list]:
    rng = random.Random(seed)
    start = date(2026, 10, 1)
    rsv, stays, folios, checks = [], [], [], []
    n = 0
    for room in range(rooms):
        d = start
        while d < start + timedelta(days=days):
            nights = rng.randint(1, 4)
            n += 1
            sid = f"RSV-{n:06d}"
            rsv.append(
                validate_record(
                    Reservation,
                    {
                        "source": "opera",
                        "source_id": sid,
                        "hotel_code": "SHA01",
                        "status": "checked_out",
                        "arrival": d.isoformat(),
                        "departure": (d + timedelta(days=nights)).isoformat(),
                        "guest": {
                            "source": "opera",
                            "source_id": f"P-{n}",
                            "given_name": "Guest",
                            "surname": f"N{n}",
                            "phones": [{"number": f"+86 139{n:08d}"}],
                        },
                    },
                )
            )
            timed = rng.random() < 0.5
            cin = datetime(d.year, d.month, d.day, 7, tzinfo=UTC) if timed else None
            end = d + timedelta(days=nights)
            cout = datetime(end.year, end.month, end.day, 3, tzinfo=UTC) if timed else None
            stays.append(
                Stay(
                    source="opera",
                    source_id=f"S-{n}",
                    reservation_source_id=sid,
                    hotel_code="SHA01",
                    room_number=str(1000 + room),
                    checked_in_at=cin,
                    checked_out_at=cout,
                )
            )
            for night in range(nights):
                if rng.random() < 0.6:
                    bd = d + timedelta(days=night)
                    items = rng.sample(MENU, rng.randint(1, 3))
                    total = sum(Decimal(p) for _, _, p in items)
                    num = len(checks) + 1
                    closed = datetime(bd.year, bd.month, bd.day, 12, tzinfo=UTC)
                    with_posting = rng.random() < 0.66
                    checks.append(
                        validate_record(
                            PosCheck,
                            {
                                "source": "simphony",
                                "source_id": f"L:{num}",
                                "hotel_code": "SHA01",
                                "outlet": "Jade Garden",
                                "check_number": str(num),
                                "business_date": bd,
                                "closed_at": closed,
                                "room_number": None if with_posting else str(1000 + room),
                                "total": {"amount": total, "currency": "CNY"},
                                "items": [
                                    {
                                        "item_id": nm[:8],
                                        "name": nm,
                                        "group": g,
                                        "amount": {"amount": p, "currency": "CNY"},
                                    }
                                    for nm, g, p in items
                                ],
                                "tenders": [
                                    {
                                        "tender_id": "10",
                                        "name": "Room Charge",
                                        "room_charge": True,
                                        "amount": {"amount": total, "currency": "CNY"},
                                    }
                                ],
                            },
                        )
                    )
                    if with_posting:
                        folios.append(
                            FolioLine(
                                source="opera",
                                source_id=f"F-{num}",
                                reservation_source_id=sid,
                                hotel_code="SHA01",
                                business_date=bd,
                                transaction_code="2010",
                                amount={"amount": total, "currency": "CNY"},
                                reference=f"CHK {num}",
                            )
                        )
            d = end
    return rsv, stays, folios, checks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rooms", type=int, default=400)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--pg", help="a PostgreSQL URL instead of a temporary SQLite file")
    args = ap.parse_args()
    rsv, stays, folios, checks = generate(args.rooms, args.days)
    url = args.pg or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    store = GuestStore.open(url, Keyring.generate("bench"))
    with store.transaction() as w:
        for i in range(0, len(rsv), 2000):
            w.upsert_reservations(rsv[i : i + 2000])
        w.upsert_stays(stays)
        w.upsert_folios(folios)
        w.upsert_pos_checks(checks)
    print(f"{len(rsv)} reservations, {len(folios)} folio postings, {len(checks)} checks")
    for label in ("first pass", "second pass"):
        t = time.perf_counter()
        with store.engine.begin() as conn:
            res = link_pos_checks(conn, store.keyring, window_days=10_000)
        dt = time.perf_counter() - t
        print(
            f"{label}: {res.evaluated} checks in {dt:.2f}s ({res.evaluated / dt:,.0f}/s), "
            f"{res.linked} linked, {res.unlinked} unlinked, {res.changed} written"
        )
        if label == "first pass":
            t = time.perf_counter()
            with store.engine.begin() as conn:
                n = refresh_dining_insights(conn, store.keyring)
            print(f"dining insights: {n} guest records in {time.perf_counter() - t:.2f}s")
    store.close()


if __name__ == "__main__":
    main()
