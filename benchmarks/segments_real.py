"""Segmentation over the real bookings of ../shared/data/hotel_bookings.csv.gz.

    python benchmarks/segments_real.py              # all 119,390 bookings
    python benchmarks/segments_real.py --limit 20000 --json

The bookings (two Portuguese hotels, 2015-07 to 2017-08; amounts in EUR) get invented guests;
a booking the data marks as a repeated guest reuses an earlier invented person, so identity
resolution joins them. They are imported through the file adapter into a fresh SQLite store,
then every guest is segmented as of 2017-09-01 and the distribution is printed next to the
repeat-guest share the data itself reports, as a check.

Thresholds for this run are the README's defaults with money scaled from CNY to EUR (÷ 8)
and the dataset's contract customer type counted as a corporate rate.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from ingest import REAL, real_rows  # same folder: run as a script
from sqlalchemy import select

from crmbridge.adapters.base import SourceContext
from crmbridge.adapters.file import FileConfig
from crmbridge.engine.sync import SyncEngine
from crmbridge.insights.facts import load_facts
from crmbridge.insights.segments import SegmentsConfig, segment
from crmbridge.plugins import load_plugins
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import guests
from crmbridge.synthetic import write_csv

AS_OF = date(2017, 9, 1)
EUR = SegmentsConfig(
    monetary=[Decimal(2500), Decimal(1000), Decimal(375), Decimal(125)],
    corporate_rates=["CONTRACT"],
)


def repeat_share(limit: int | None) -> float:
    with gzip.open(REAL, "rt", encoding="utf-8") as fh:
        rows = itertools.islice(csv.DictReader(fh), limit)
        flags = [r["is_repeated_guest"] == "1" for r in rows]
    return sum(flags) / len(flags)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="only the first N bookings")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not REAL.is_file():
        ap.error(f"{REAL} not found: this benchmark needs ../shared/data beside the checkout")
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "bookings.csv"
        write_csv(export, itertools.islice(real_rows(), a.limit))
        keyring = Keyring.generate()
        store = GuestStore.open(f"sqlite:///{Path(tmp) / 'store.db'}", keyring)
        hooks = load_plugins()
        t = time.perf_counter()
        ctx = SourceContext("bookings", "file", FileConfig(path=str(export)))
        [run] = SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("file"))
        print(f"imported {run.counts.fetched:,} bookings in {time.perf_counter() - t:.0f}s", file=sys.stderr)
        tiers, types, tags = Counter(), Counter(), Counter()
        with store.engine.connect() as conn:
            ids = [r.id for r in conn.execute(select(guests.c.id).where(guests.c.merged_into.is_(None)))]
            for i in range(0, len(ids), 2000):
                for facts in load_facts(conn, keyring, ids[i : i + 2000]).values():
                    seg = segment(facts, AS_OF, EUR)
                    tiers[seg.value_tier] += 1
                    types[seg.guest_type] += 1
                    tags.update(seg.tags)
        store.close()
    n = len(ids)
    result = {
        "bookings": run.counts.fetched,
        "quarantined": run.counts.quarantined,
        "guests": n,
        "as_of": AS_OF.isoformat(),
        "value_tiers": dict(sorted(tiers.items())),
        "guest_types": dict(types.most_common()),
        "tags": dict(tags.most_common()),
        "data_repeat_booking_share": round(repeat_share(a.limit), 4),
    }
    if a.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['bookings']:,} bookings → {n:,} guests ({result['quarantined']} quarantined), as of {AS_OF}"
    )
    for title, counter in (("value tier", tiers), ("guest type", types), ("tag", tags)):
        print(f"\n{title:<22}{'guests':>10}{'share':>9}")
        for k, v in counter.most_common():
            print(f"{k:<22}{v:>10,}{v / n:>9.1%}")
    print(f"\nbookings the data marks as repeated guests: {result['data_repeat_booking_share']:.1%}")


if __name__ == "__main__":
    main()
