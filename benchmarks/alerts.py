"""Alert generation benchmark: the pre-arrival plan for N arrivals over a store of M profiles.

    python benchmarks/alerts.py                          # 10,000 arrivals, 1,000,000 profiles
    python benchmarks/alerts.py --profiles 100000 --arrivals 2000
    python benchmarks/alerts.py --db /tmp/alerts.db      # keep (and reuse) the built store

The store is built directly (encrypted profile fields, past stays, feedback) because building
a million profiles through the adapters would measure ingest, not alerts (see ingest.py).
Measured in the same run, side by side:
  * batched: `plan_arrivals` (one query for the arrivals, facts loaded in chunks of 500);
  * baseline: the naive way, one query set per arrival (profile, reservations, feedback),
    over the same arrivals: both sides plan every arrival, so the ratio compares like with
    like (a baseline on a slice, credited with the slice after loading every arrival, did not).
Each measurement runs in a child process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from crmbridge.insights.config import AlertsConfig, SegmentsConfig
from crmbridge.insights.facts import load_facts
from crmbridge.insights.prearrival import _arrivals, enabled_rules, plan_arrivals
from crmbridge.insights.rules import RuleInput
from crmbridge.insights.segments import segment
from crmbridge.plugins import load_plugins
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import feedback, guests, profile_records, reservations
from crmbridge.synthetic import invent_person

TODAY = date(2026, 11, 23)
PMS = "opera_pms"
PREFS = [("PILLOW", "BUCKWHEAT"), ("FLOOR", "HIGH_FLOOR"), ("DIET", "VEGETARIAN"), ("BED", "KING")]


def build(db: Path, profiles: int, arrivals: int, keyring: Keyring) -> None:
    store = GuestStore.open(f"sqlite:///{db}", keyring)
    rng = random.Random(7)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    chunk = 5000
    arrival_every = max(profiles // arrivals, 1)
    for start in range(0, profiles, chunk):
        g_rows, p_rows, r_rows, f_rows = [], [], [], []
        for i in range(start, min(start + chunk, profiles)):
            gid, rid = str(uuid.UUID(int=rng.getrandbits(128))), f"rec-{i}"
            person = invent_person(rng, i)
            g_rows.append({"id": gid, "created_at": now, "updated_at": now, "merged_into": None})
            attrs = {
                "preferences": [
                    {"category": c, "code": k} for c, k in rng.sample(PREFS, rng.choice((0, 0, 1, 2)))
                ],
                "memberships": [{"program": "Club", "tier": rng.choice(["MEMBER", "GOLD"])}]
                if rng.random() < 0.2
                else [],
            }

            def enc(col: str, val: str, rid: str = rid) -> bytes:
                return keyring.encrypt(val, table="profile_records", column=f"{col}_ct", row_id=rid)

            p_rows.append({
                "id": rid, "source": PMS, "source_id": f"P-{i}", "guest_id": gid, "observed_at": now,
                "content_hash": rng.randbytes(32), "ingested_at": now,
                "given_name_ct": enc("given_name", person.given),
                "surname_ct": enc("surname", person.surname),
                "local_name_ct": enc("local_name", person.local or ""),
                "birth_date_ct": enc("birth_date", person.birth.isoformat()),
                "attributes_ct": enc("attributes", json.dumps(attrs)),
            })  # fmt: skip
            stays = [
                (TODAY - timedelta(days=rng.randint(30, 900)), "checked_out")
                for _ in range(rng.randint(0, 3))
            ]
            if i % arrival_every == 0 and i // arrival_every < arrivals:
                stays.append((TODAY + timedelta(days=rng.randint(0, 2)), "confirmed"))
            for n, (arr, status) in enumerate(stays):
                sid = f"R-{i}-{n}"
                r_rows.append({
                    "id": f"res-{i}-{n}", "source": PMS, "source_id": sid, "hotel_code": "SHA01",
                    "status": status, "channel": rng.choice(["direct", "ctrip", "fliggy"]), "arrival": arr,
                    "departure": arr + timedelta(days=rng.randint(1, 9)), "room_type": "DLK",
                    "rate_code": rng.choice(["BAR", "CORP01"]), "adults": rng.randint(1, 2),
                    "children": rng.choice((0, 0, 0, 1)), "total_amount": rng.randint(600, 6000),
                    "currency": "CNY", "confirmation_numbers": [], "special_requests_ct": None,
                    "guest_record_id": rid, "source_created_at": now, "source_updated_at": now,
                    "content_hash": rng.randbytes(32), "ingested_at": now,
                })  # fmt: skip
                if status == "checked_out" and rng.random() < 0.05:
                    f_rows.append({
                        "id": f"fb-{i}-{n}", "source": "survey", "source_id": f"FB-{i}-{n}",
                        "rating": rng.randint(1, 5), "category": "complaint", "text_ct": None,
                        "reservation_source": PMS, "reservation_source_id": sid, "stay_source_id": None,
                        "received_at": datetime.combine(arr, datetime.min.time(), UTC) + timedelta(days=3),
                        "source_updated_at": now, "content_hash": rng.randbytes(32), "ingested_at": now,
                    })  # fmt: skip
        with store.engine.begin() as conn:
            conn.execute(insert(guests), g_rows)
            conn.execute(insert(profile_records), p_rows)
            if r_rows:
                conn.execute(insert(reservations), r_rows)
            if f_rows:
                conn.execute(insert(feedback), f_rows)
        done = min(start + chunk, profiles)
        if done % 100_000 == 0 or done == profiles:
            print(f"  built {done:,} profiles ({time.perf_counter() - t0:.0f}s)", file=sys.stderr, flush=True)
    store.close()


def child(mode: str, db: str, keys: str) -> dict[str, Any]:
    keyring = Keyring.from_json(keys, origin="benchmark")
    store = GuestStore.open(f"sqlite:///{db}", keyring, upgrade=False)
    hooks = load_plugins()
    cfg, seg_cfg = AlertsConfig(language="zh", lookahead_days=2), SegmentsConfig()
    t = time.perf_counter()
    if mode == "batched":
        plans = plan_arrivals(store, hooks, PMS, cfg, seg_cfg, TODAY)
        n, alerts = len(plans), sum(len(p.alerts) for p in plans)
    else:  # one guest at a time, the way a first version would loop
        rules = enabled_rules(hooks, cfg)
        arrivals = _arrivals(store, PMS, TODAY, TODAY + timedelta(days=2), None)
        n = alerts = 0
        for visit, gid in arrivals:
            with store.engine.connect() as conn:
                facts = load_facts(conn, keyring, [gid])[gid]
            facts.segment = segment(facts, TODAY, seg_cfg)
            for rule, settings in rules:
                alerts += rule.evaluate(RuleInput(visit, facts, TODAY, "zh"), settings) is not None
            n += 1
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "arrivals": n, "alerts": alerts, "seconds": seconds, "rss_mb": rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profiles", type=int, default=1_000_000)
    ap.add_argument("--arrivals", type=int, default=10_000)
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        mode, db, keys = a.child
        print(json.dumps(child(mode, db, Path(keys).read_text())))
        return
    db = a.db or Path(f"/tmp/crmbridge-alerts-{a.profiles}.db")
    keys = db.with_suffix(".key")
    if not db.exists():
        keyring = Keyring.generate("bench")
        keyring.write(keys)
        print(f"building a store of {a.profiles:,} profiles in {db}...", file=sys.stderr)
        build(db, a.profiles, a.arrivals, keyring)
    results = []
    for mode in ("batched", "naive"):
        print(f"planning ({mode})...", file=sys.stderr, flush=True)
        cmd = [sys.executable, __file__, "--child", mode, str(db), str(keys)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    with GuestStore.open(f"sqlite:///{db}", Keyring.load(keys), upgrade=False).engine.connect() as c:
        profiles = len(c.execute(select(profile_records.c.id)).all())
    for r in results:
        r["per_s"] = r["arrivals"] / r["seconds"] if r["seconds"] else 0.0
    ratio = results[0]["per_s"] / results[1]["per_s"] if results[1]["per_s"] else float("nan")
    if a.json:
        print(json.dumps({"profiles": profiles, "results": results, "ratio": ratio}, indent=2))
        return
    print(f"store: {profiles:,} profiles (SQLite, {db.stat().st_size / 2**20:,.0f} MiB)")
    print(f"{'':10}{'arrivals':>10}{'alerts':>9}{'seconds':>10}{'arrivals/s':>12}{'peak RSS MB':>13}")
    for r in results:
        print(
            f"{r['mode']:10}{r['arrivals']:>10,}{r['alerts']:>9,}{r['seconds']:>10.1f}"
            f"{r['per_s']:>12,.0f}{r['rss_mb']:>13.0f}"
        )
    print(f"ratio batched/naive (arrivals per second): {ratio:.1f}x")


if __name__ == "__main__":
    main()
