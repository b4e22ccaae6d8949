"""Ingest benchmark: the file adapter's batched import vs the naive way, in the same run.

    python benchmarks/ingest.py                 # 200,000 invented reservations
    python benchmarks/ingest.py --real          # the 119,390 real bookings of ../shared/data
    python benchmarks/ingest.py -n 20000 --naive-n 2000

Each import runs in a child process on a fresh SQLite file, so peak RSS is the import's own.
The naive import validates and encrypts the same way but writes one ORM object per table and
commits once per record; it runs on a smaller N (it is slow) and rates are compared.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from crmbridge.adapters.base import SourceContext
from crmbridge.adapters.file import FileConfig, _rows, map_row
from crmbridge.engine.sync import SyncEngine
from crmbridge.models import RecordInvalid, Reservation, validate_record
from crmbridge.plugins import load_plugins
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore
from crmbridge.synthetic import generate_rows, invent_person, reservation_row, write_csv

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "hotel_bookings.csv.gz"
MONTHS = {m: i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)}  # fmt: skip
STATUS = {"Check-Out": "Checked Out", "Canceled": "Cancelled", "No-Show": "No-Show"}


def real_rows(path: Path = REAL) -> Iterator[dict[str, str]]:
    """The real bookings with invented guests; a repeated guest reuses an earlier person."""
    rng = random.Random(2019)
    pool: list = []
    t0 = datetime(2017, 9, 1, tzinfo=UTC)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for i, b in enumerate(csv.DictReader(fh)):
            if b["is_repeated_guest"] == "1" and pool:
                person = rng.choice(pool)
            else:
                person = invent_person(rng, i)
                if len(pool) < 20_000:
                    pool.append(person)
            arrival = date(
                int(b["arrival_date_year"]),
                MONTHS[b["arrival_date_month"]],
                int(b["arrival_date_day_of_month"]),
            )
            nights = int(b["stays_in_weekend_nights"]) + int(b["stays_in_week_nights"])
            row = reservation_row(
                rng,
                f"H{i:06d}",
                person,
                hotel="H1" if b["hotel"][0] == "R" else "H2",
                arrival=arrival,
                updated=t0 + timedelta(seconds=i),
                nights=max(nights, 1),
            )
            row.update(
                {
                    "status": STATUS.get(b["reservation_status"], "Reserved"),
                    "departure": (arrival + timedelta(days=nights)).isoformat(),
                    "adults": b["adults"],
                    "children": b["children"] if b["children"] != "NA" else "0",
                    "room_type": b["reserved_room_type"],
                    "rate_code": b["customer_type"],
                    "channel": b["distribution_channel"],
                    "total_amount": f"{float(b['adr']) * nights:.2f}",
                    "currency": "EUR",
                }
            )
            if person.local is None:
                # Invented non-Chinese numbers come from small fictional ranges (555-01xx):
                # at this scale they would join strangers, which the real data never does.
                row["phone"] = ""
            yield row


def child_batched(csv_path: str, db: str, key_store: bool = False) -> dict:
    keyring = Keyring.generate()
    # with a key store (as `crmbridge sync` runs): a random data key per record, wrapped and
    # written to its own SQLite file per batch; without: keys derived in memory (the baseline)
    ks = f"sqlite:///{db}.keys" if key_store else None
    store = GuestStore.open(f"sqlite:///{db}", keyring, key_store_url=ks)
    hooks = load_plugins()
    ctx = SourceContext("bench", "file", FileConfig(path=csv_path, hotel_code="SHA01"))
    t = time.perf_counter()
    [r] = SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("file"))
    secs = time.perf_counter() - t
    return {
        "records": r.counts.fetched,
        "inserted": r.counts.inserted,
        "quarantined": r.counts.quarantined,
        "seconds": secs,
        "status": r.status,
    }


def child_naive(csv_path: str, db: str, limit: int) -> dict:
    """One ORM object per table and one commit per record: what a first attempt looks like."""
    import uuid

    from sqlalchemy import select
    from sqlalchemy.orm import Session, registry

    from crmbridge.identity.keys import IdentityPolicy, identity_keys
    from crmbridge.store.schema import guest_index, guests, profile_records, reservations

    class G: ...

    class P: ...

    class R: ...

    class I: ...  # noqa: E742

    reg = registry()
    for cls, table in ((G, guests), (P, profile_records), (R, reservations), (I, guest_index)):
        reg.map_imperatively(cls, table)
    keyring = Keyring.generate()
    store = GuestStore.open(f"sqlite:///{db}", keyring)
    n = 0
    t = time.perf_counter()
    with Session(store.engine) as s:
        for _, row, _ in _rows(Path(csv_path), "csv"):
            if n >= limit:
                break
            n += 1
            try:
                res = validate_record(Reservation, map_row(row, source="bench", default_hotel="SHA01"))
            except RecordInvalid:
                continue
            g = res.guest
            now = datetime.now(UTC)
            keys = [
                (k, keyring.blind_index(v, table="guest_index", index=k))
                for k, v in identity_keys(g, IdentityPolicy())
            ]
            gid = None
            for k, h in keys:
                gid = s.scalar(
                    select(profile_records.c.guest_id)
                    .join(guest_index, guest_index.c.record_id == profile_records.c.id)
                    .where(guest_index.c.kind == k, guest_index.c.hash == h)
                )
                if gid:
                    break
            if gid is None:
                gid = str(uuid.uuid4())
                s.add(G(id=gid, created_at=now, updated_at=now))
            pid = str(uuid.uuid4())

            def enc(col: str, v: str | None, rid: str = pid, table: str = "profile_records") -> bytes | None:
                return keyring.encrypt(v, table=table, column=col, row_id=rid) if v else None

            s.add(
                P(
                    id=pid,
                    source="bench",
                    source_id=g.source_id,
                    guest_id=gid,
                    observed_at=g.updated_at,
                    content_hash=b"x",
                    ingested_at=now,
                    given_name_ct=enc("given_name_ct", g.given_name),
                    surname_ct=enc("surname_ct", g.surname),
                    local_name_ct=enc("local_name_ct", g.local_name),
                    emails_ct=enc("emails_ct", json.dumps([e.address for e in g.emails])),
                    phones_ct=enc("phones_ct", json.dumps([p.number for p in g.phones])),
                )
            )
            s.flush()  # no ORM relationships here, so parents go first by hand
            for k, h in keys:
                s.add(I(kind=k, hash=h, record_id=pid))
            rid = str(uuid.uuid4())
            s.add(
                R(
                    id=rid,
                    source="bench",
                    source_id=res.source_id,
                    hotel_code=res.hotel_code,
                    status=res.status.value,
                    arrival=res.arrival,
                    departure=res.departure,
                    adults=res.adults,
                    children=res.children,
                    confirmation_numbers=[],
                    total_amount=res.total.amount if res.total else None,
                    guest_record_id=pid,
                    content_hash=b"x",
                    ingested_at=now,
                )
            )
            s.commit()
    return {"records": n, "seconds": time.perf_counter() - t}


def run_child(mode: str, csv_path: Path, workdir: Path, limit: int = 0) -> dict:
    db = workdir / f"{mode}.db"
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(csv_path), str(db), str(limit)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, csv_path, db, limit = sys.argv[2:6]
        if mode == "naive":
            r = child_naive(csv_path, db, int(limit))
        else:
            r = child_batched(csv_path, db, key_store=mode == "keystore")
        r["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(r))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200_000, help="invented reservations (ignored with --real)")
    ap.add_argument("--real", action="store_true", help="replay ../shared/data/hotel_bookings.csv.gz")
    ap.add_argument("--naive-n", type=int, default=3_000, help="records for the naive import")
    ap.add_argument(
        "--key-store", action="store_true", help="also import with a key store (per-record data keys)"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.real and not REAL.is_file():
        ap.error(f"{REAL} not found: --real replays ../shared/data beside the checkout (run without it)")
    with tempfile.TemporaryDirectory(prefix="crmbridge-bench-") as tmp:
        work = Path(tmp)
        csv_path = work / "export.csv"
        t = time.perf_counter()
        n = write_csv(csv_path, real_rows() if args.real else generate_rows(args.n, seed=42))
        print(
            f"generated {n:,} {'real' if args.real else 'invented'} reservations in "
            f"{time.perf_counter() - t:.1f}s",
            file=sys.stderr,
        )
        print("importing batched (the file adapter)...", file=sys.stderr)
        batched = run_child("batched", csv_path, work)
        keystore = run_child("keystore", csv_path, work) if args.key_store else None
        print(f"importing naive ({args.naive_n:,} records)...", file=sys.stderr)
        naive = run_child("naive", csv_path, work, min(args.naive_n, n))
    b_rate = batched["records"] / batched["seconds"]
    n_rate = naive["records"] / naive["seconds"]
    result = {
        "workload": "real hotel_bookings" if args.real else "invented",
        "batched": {**batched, "records_per_s": round(b_rate)},
        "naive": {**naive, "records_per_s": round(n_rate)},
        "ratio": round(b_rate / n_rate, 1),
    }
    if keystore:
        result["keystore"] = {**keystore, "records_per_s": round(keystore["records"] / keystore["seconds"])}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'':10}{'records':>10}{'seconds':>10}{'records/s':>12}{'peak RSS MB':>13}")
    for name in ("batched", "keystore", "naive") if keystore else ("batched", "naive"):
        r = result[name]
        print(
            f"{name:10}{r['records']:>10,}{r['seconds']:>10.1f}{r['records_per_s']:>12,}"
            f"{r['peak_rss_mb']:>13.0f}"
        )
    print(f"ratio batched/naive: {result['ratio']}x")


if __name__ == "__main__":
    main()
