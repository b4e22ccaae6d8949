"""Push latency: Ctrip orders from the moment they are sent to the moment they are readable.

    python benchmarks/push_latency.py                    # 1,000 orders, 4 senders, SQLite
    python benchmarks/push_latency.py -n 200 --senders 1
    python benchmarks/push_latency.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

A receiver (uvicorn on 127.0.0.1, port 0) serves one ctrip source on a fresh store; the
simulator's senders post invented OTA_HotelResRQ orders over HTTP; a reader polls the store
every few milliseconds. Reported: the reply latency (send -> OTA reply, the order committed to
the inbox) and the end-to-end latency (send -> the reservation readable in the store), as
p50/p95/p99, and the throughput.

    python benchmarks/push_latency.py --alerts           # Ctrip POST -> alert readable in OPERA

`--alerts` measures the real-time alert path: the OPERA simulator holds N arrivals in the next
three days (synced into the store first, no alert pushed yet); each Ctrip order is a booking by
one of those guests for that stay (the same person, Han name with pinyin, phone and e-mail).
Timed from the POST to the moment the guest's OPERA reservation shows a CRM alert when read
back through the simulator's OHIP API (`getAlertNotices`, polled by a reader thread).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

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
    ap.add_argument("--alerts", action="store_true", help="measure Ctrip POST -> alert in OPERA")
    ap.add_argument("--validate", action="store_true", help="--alerts: the simulator checks every request")
    args = ap.parse_args()
    if args.alerts:
        alert_latency(args)
        return

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


def _ctrip_orders_for_opera_guests(sim: Any, n: int) -> list[tuple[str, Order]]:
    """(OPERA reservation id, the same guest's Ctrip order for that stay), for `n` arrivals."""
    out = []
    for rid, info in sim.state.reservations.items():
        if info["reservationStatus"] != "Reserved":
            continue
        prof = sim.state.profiles[info["reservationGuest"]["id"]]["profileDetails"]
        names = prof["customer"]["personName"]
        latin = next(x for x in names if x.get("nameType") == "Primary")
        han = next((x for x in names if x.get("language") == "C"), None)
        phone = prof["telephones"]["telephoneInfo"][0]["telephone"]["phoneNumber"]
        email = prof["emails"]["emailInfo"][0]["email"]["emailAddress"]
        guest = (
            Guest(
                han["surname"],
                han["givenName"],
                pinyin=(latin["surname"], latin["givenName"]),
                phone=phone,
                email=email,
            )
            if han
            else Guest(latin["surname"], latin["givenName"], phone=phone, email=email)
        )
        stay = info["roomStay"]
        arrival, departure = (
            date.fromisoformat(stay["arrivalDate"]),
            date.fromisoformat(stay["departureDate"]),
        )
        out.append((rid, Order(f"CTA{len(out):07d}", sim.hotel, arrival, (departure - arrival).days, guest)))
        if len(out) == n:
            break
    return out


def alert_latency(args: argparse.Namespace) -> None:
    from crmbridge_opera.client import OperaClient
    from crmbridge_opera.config import OperaConfig
    from crmbridge_opera.simulator import OhipSimulator, demo_options

    from crmbridge.config import Config, SourceConfig, StoreConfig
    from crmbridge.engine.sources import build_source
    from crmbridge.engine.sync import SyncEngine
    from crmbridge.insights.config import AlertsConfig, SegmentsConfig
    from crmbridge.insights.realtime import RealtimeAlerts

    tmp = tempfile.mkdtemp(prefix="alert-latency-")
    url = args.db_url or f"sqlite:///{tmp}/store.db"
    store = GuestStore.open(url, Keyring.generate("bench"))
    today = datetime.now(UTC).date()
    # validate=False unless --validate: the simulator's check of every request against Oracle's
    # spec files costs tens of ms per request here; it tests our requests, OPERA does not do it.
    sim = OhipSimulator(validate=args.validate)
    sim.populate(
        int(args.orders * 1.3), first_arrival=today + timedelta(days=1), days=3, seed=16, today=today
    )
    creds = Credentials("ctrip-bench", "bench-password")
    ctrip_opts = {
        "hotel_code": sim.hotel,
        "requestor_id": creds.requestor_id,
        "message_password": creds.password,
    }
    opera_opts = {**demo_options(sim), "backfill_days": 1, "lookahead_days": 5, "page_size": 200}
    cfg = Config(
        path=Path(tmp) / "crmbridge.toml",
        store=StoreConfig(url=url),
        sources={
            "opera": SourceConfig("opera", "opera", None, opera_opts),
            "ctrip": SourceConfig("ctrip", "ctrip", None, ctrip_opts),
        },
        timezone="UTC",
        alerts=AlertsConfig(language="en", lookahead_days=4, push_to=["opera"]),
        segments=SegmentsConfig(),
    )
    hooks = load_plugins()
    with sim:
        t = time.perf_counter()
        octx, oadapter = build_source(cfg, cfg.sources["opera"], hooks, store)
        synced = SyncEngine(store, hooks).sync_source(octx, oadapter)
        print(
            f"OPERA synced in {time.perf_counter() - t:.1f} s: "
            + ", ".join(f"{r.stream} {r.counts.fetched}" for r in synced)
        )
        pairs = _ctrip_orders_for_opera_guests(sim, args.orders)
        rt = RealtimeAlerts(cfg, hooks, store).start()
        cctx, cadapter = build_source(cfg, cfg.sources["ctrip"], hooks, store)
        route = PushRoute("/ota/ctrip", cctx, cadapter)
        reader_client = OperaClient(OperaConfig.model_validate(opera_opts))
        sent: dict[str, float] = {}
        seen: dict[str, float] = {}
        done = threading.Event()

        def reader() -> None:
            # Polls the reservations whose order was sent and whose alert is not yet visible.
            while not done.is_set():
                waiting = [rid for rid in list(sent) if rid not in seen]
                for rid in waiting:
                    body = reader_client.get_json(
                        "getAlertNotices", f"/rsv/v1/hotels/{sim.hotel}/reservations/{rid}/alerts"
                    )
                    if body.get("alerts"):
                        seen[rid] = time.perf_counter()
                if len(seen) >= len(pairs):
                    done.set()
                time.sleep(0.002 if waiting else 0.01)

        with Receiver(store, hooks, [route], ReceiverConfig(port=0, retry_seconds=1)) as receiver:
            receiver.processor.listen(rt.notify)
            local = threading.local()
            post_url = receiver.url + route.path

            def send(item: tuple[str, Order]) -> None:
                if not hasattr(local, "client"):
                    local.client = CtripClient(post_url)
                rid, order = item
                body = Messages(creds).order(order)
                sent[rid] = time.perf_counter()
                if not local.client.send(body).success:
                    raise RuntimeError(f"order {order.order_id} refused")

            watcher = threading.Thread(target=reader, daemon=True)
            watcher.start()
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.senders) as pool:
                list(pool.map(send, pairs))
            finished = done.wait(180)
            total = time.perf_counter() - t0
            done.set()
        rt.stop()
        reader_client.close()
    store.close()
    lat = [1000 * (seen[r] - sent[r]) for r in seen]
    backend = "PostgreSQL" if args.db_url else "SQLite"
    validation = "on" if args.validate else "off"
    print(
        f"{len(pairs)} Ctrip orders, {args.senders} sender(s), store {backend}, "
        f"simulator validation {validation}"
    )
    late = "" if finished else " (timed out)"
    print(
        f"{len(seen)} of {len(pairs)} alerts readable in OPERA after {total:.1f} s{late}; {rt.passes} passes"
    )
    if lat:
        p50, p95 = pct(lat, 50), pct(lat, 95)
        print(
            f"Ctrip POST -> alert readable in OPERA: p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
            f"max {max(lat):7.1f} ms"
        )


if __name__ == "__main__":
    main()
