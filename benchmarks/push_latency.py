"""Push latency: Ctrip orders from the moment they are sent to the moment they are readable.

    python benchmarks/push_latency.py                    # 1,000 orders, 4 senders, SQLite
    python benchmarks/push_latency.py -n 200 --senders 1
    python benchmarks/push_latency.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

A receiver (uvicorn on 127.0.0.1, port 0) serves one ctrip source on a fresh store; the
simulator's senders post invented OTA_HotelResRQ orders over HTTP; a reader polls the store
every few milliseconds. Reported: the reply latency (send -> OTA reply, the order committed to
the inbox) and the end-to-end latency (send -> the reservation readable in the store), as
p50/p95/p99, and the throughput. The leg on to an alert in OPERA is not measured: an OTA order
reaches OPERA through the hotel's channel manager, not through crmbridge, and the pre-arrival
job that pushes alerts runs on its schedule rather than per order.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

from crmbridge_ctrip.adapter import CtripConfig
from crmbridge_ctrip.simulator import Credentials, CtripClient, Guest, Messages, Order
from sqlalchemy import select

from crmbridge.adapters.base import SourceContext
from crmbridge.config import ReceiverConfig
from crmbridge.plugins import load_plugins
from crmbridge.receiver import PushRoute, Receiver
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import reservations

SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = ["芳", "伟", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳"]


def orders(n: int, hotel: str) -> list[Order]:
    start = date.today() + timedelta(days=30)
    return [
        Order(
            f"CTB{i:07d}",
            hotel,
            start + timedelta(days=i % 90),
            1 + i % 4,
            Guest(SURNAMES[i % 10], GIVEN[(i // 10) % 10], phone=f"+86 139 {i // 10000:04d} {i % 10000:04d}"),
            nightly=Decimal("588.00") + i % 5 * 100,
        )
        for i in range(n)
    ]


def pct(values: list[float], p: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--orders", type=int, default=1000)
    ap.add_argument("--senders", type=int, default=4, help="concurrent Ctrip connections")
    ap.add_argument("--db-url", help="an empty database (default: a fresh SQLite file)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="push-latency-")
    store = GuestStore.open(args.db_url or f"sqlite:///{tmp}/store.db", Keyring.generate("bench"))
    creds = Credentials("ctrip-bench", "bench-password")
    cfg = CtripConfig(hotel_code="SHA01", requestor_id=creds.requestor_id, message_password=creds.password)
    hooks = load_plugins()
    ctx = SourceContext("ctrip", "ctrip", cfg)
    ctx.inbox, ctx.ledger = store.inbox("ctrip"), store.ledger("ctrip")
    route = PushRoute(cfg.path, ctx, hooks.adapter_type("ctrip"))
    todo = orders(args.orders, cfg.hotel_code)
    bodies = [(o.order_id, Messages(creds).order(o)) for o in todo]
    sent: dict[str, float] = {}
    replied: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = threading.Event()

    def reader() -> None:
        q = select(reservations.c.source_id).where(reservations.c.source == "ctrip")
        while not done.is_set():
            with store.engine.connect() as c:
                ids = c.execute(q).scalars().all()
            now = time.perf_counter()
            for sid in ids:
                seen.setdefault(sid, now)
            if len(seen) >= len(todo):
                done.set()
            time.sleep(0.005)

    with Receiver(store, hooks, [route], ReceiverConfig(port=0, retry_seconds=1)) as receiver:
        url = receiver.url + cfg.path
        local = threading.local()

        def send(item: tuple[str, bytes]) -> None:
            if not hasattr(local, "client"):
                local.client = CtripClient(url)
            oid, body = item
            sent[oid] = time.perf_counter()
            outcome = local.client.send(body)
            replied[oid] = time.perf_counter()
            if not outcome.success:
                raise RuntimeError(f"order {oid} refused: {outcome.errors}")

        watcher = threading.Thread(target=reader, daemon=True)
        watcher.start()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.senders) as pool:
            list(pool.map(send, bodies))
        sending = time.perf_counter() - t0
        if not done.wait(120):
            raise SystemExit(f"only {len(seen)} of {len(todo)} orders reached the store within 120 s")
        total = time.perf_counter() - t0
    store.close()

    reply_ms = [1000 * (replied[o] - sent[o]) for o in sent]
    e2e_ms = [1000 * (seen[o] - sent[o]) for o in sent]
    print(f"{len(todo)} orders, {args.senders} sender(s), store {'PostgreSQL' if args.db_url else 'SQLite'}")
    print(
        f"sent in {sending:.2f} s ({len(todo) / sending:.0f} orders/s); all in the store after {total:.2f} s"
    )
    for name, xs in (("reply (send -> OTA reply)", reply_ms), ("end to end (send -> readable)", e2e_ms)):
        print(f"{name:32s} p50 {pct(xs, 50):7.1f} ms   p95 {pct(xs, 95):7.1f} ms   p99 {pct(xs, 99):7.1f} ms")


if __name__ == "__main__":
    main()
