"""`crmbridge demo`: invented guests, two exports, one store; no config, no network."""

from __future__ import annotations

import json
import random
import shutil
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..adapters.base import AdapterType, DemoSource, SourceContext
from ..adapters.file import FileConfig
from ..config import ReceiverConfig
from ..engine.sync import SyncEngine
from ..insights.config import AlertsConfig, SegmentsConfig
from ..insights.prearrival import plan_arrivals, push_plans
from ..plugins import Hooks, load_plugins
from ..store.crypto import Keyring
from ..store.guest_store import GuestStore
from ..store.reader import load_guests, store_counts
from ..synthetic import generate_rows, invent_person, reservation_row, write_csv


def _exports(workdir: Path) -> tuple[Path, Path]:
    """A legacy PMS export (CSV) and a group-sales export (JSONL) sharing some guests."""
    rows = list(generate_rows(60, seed=2026, hotel="SHA01", prefix="PMS-"))
    pms = workdir / "exports" / "legacy_pms.csv"
    write_csv(pms, rows)
    rng = random.Random(11)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    group = workdir / "exports" / "group_sales.jsonl"
    lines = []
    for i in range(12):
        if i < 6:  # the same people as in the PMS export, phone typed differently
            src = rows[i * 7]
            mobile = "".join(ch for ch in src["phone"] if ch.isdigit())[-11:]
            person = invent_person(rng, 900 + i)
            person.given, person.surname, person.local = (
                src["given_name"],
                src["surname"],
                src["local_name"] or None,
            )
            person.phone = (
                f"+86-{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
                if src["phone"][0] != "+" or "86" in src["phone"][:4]
                else src["phone"]
            )
            person.email = src["email"].upper() if src["email"] else person.email
        else:
            person = invent_person(rng, 900 + i)
        row = reservation_row(
            rng,
            f"GRP-{i:04d}",
            person,
            hotel="SHA01",
            arrival=date(2026, 12, 20) + timedelta(days=i),
            updated=t0 + timedelta(hours=i),
        )
        lines.append(json.dumps(row, ensure_ascii=False))
    lines.insert(5, json.dumps({**json.loads(lines[4]), "source_id": "GRP-BAD", "arrival": "2026-02-30"}))
    group.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return pms, group


def _sync(engine: SyncEngine, ctx: SourceContext, atype: AdapterType, out: Console) -> None:
    for r in engine.sync_source(ctx, atype):
        c = r.counts
        out.print(
            f"  synced {ctx.name}/{r.stream}: {c.fetched} fetched, {c.inserted} new, "
            f"{c.unchanged} unchanged, {c.quarantined} quarantined ({r.status})"
        )


def _receive_pushes(
    hooks: Hooks, store: GuestStore, pushed: list[tuple[DemoSource, SourceContext, AdapterType]], out: Console
) -> None:
    """Push sources: a receiver on 127.0.0.1:0 serves them while their senders post."""
    from ..receiver import PushRoute, Receiver

    routes = [PushRoute(ctx.settings.path, ctx, atype) for _, ctx, atype in pushed]
    with Receiver(store, hooks, routes, ReceiverConfig(port=0, retry_seconds=1)) as receiver:
        for (demo, _ctx, _), route in zip(pushed, routes, strict=True):
            assert demo.sender is not None
            demo.sender(receiver.url + route.path)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(receiver.processor.busy(ctx.name) for _, ctx, _ in pushed):
            time.sleep(0.05)
    for _, ctx, _ in pushed:
        counts = ctx.inbox.counts() if ctx.inbox else {}
        out.print(
            f"  received {ctx.name} over HTTP: {counts.get('done', 0)} message(s) processed, "
            f"{counts.get('pending', 0)} waiting"
        )


def _sync_plugin_demos(
    engine: SyncEngine, hooks: Hooks, store: GuestStore, workdir: Path, out: Console
) -> None:
    """Sources that installed plugins offer, each synced against its own loopback simulator."""
    demos: list[DemoSource] = hooks.demo_sources(workdir)
    pushed: list[tuple[DemoSource, SourceContext, AdapterType]] = []
    pms: list[SourceContext] = []
    with ExitStack() as stack:
        for demo in demos:
            atype = hooks.adapter_type(demo.type)
            settings = atype.config_model.model_validate(demo.options)
            if demo.simulator is not None:
                stack.enter_context(demo.simulator)
            ctx = SourceContext(demo.name, demo.type, settings, base_dir=workdir)
            ctx.inbox, ctx.ledger = store.inbox(demo.name), store.ledger(demo.name)
            if demo.sender is not None and "receive" in atype.capabilities:
                pushed.append((demo, ctx, atype))
                continue
            _sync(engine, ctx, atype, out)
            if "push_alerts" in atype.capabilities:
                pms.append(ctx)
        if pushed:
            _receive_pushes(hooks, store, pushed, out)
        _pos_links(store, out)
        for ctx in pms:  # after every source landed, so the alerts see all of it
            _push_arrival_alerts(hooks, store, ctx, out)


def _pos_links(store: GuestStore, out: Console) -> None:
    """How many POS checks reached a guest, and why the others did not."""
    from sqlalchemy import func, select

    from ..store.schema import pos_links

    with store.engine.connect() as conn:
        rows = conn.execute(
            select(pos_links.c.status, pos_links.c.reason, func.count()).group_by(
                pos_links.c.status, pos_links.c.reason
            )
        ).all()
    if not rows:
        return
    total = sum(n for _, _, n in rows)
    linked = sum(n for status, _, n in rows if status == "linked")
    why = "; ".join(f"{n} {reason}" for status, reason, n in sorted(rows) if status != "linked")
    out.print(
        f"  POS checks: {linked} of {total} linked to a stay (room charges found on a folio)"
        + (f"; unlinked, never guessed onto a guest: {why}" if why else "")
    )


DEMO_CONFIG = """\
# Written by `crmbridge demo` to explore its store afterwards, e.g.
#   crmbridge guests -c {path}
# Paths are relative to this folder. The demo's simulators are gone: only its files remain.
[store]
url = "sqlite:///demo.db"
key_file = "demo.key"

[sources.legacy_pms]
type = "file"
path = "exports/legacy_pms.csv"

[sources.group_sales]
type = "file"
path = "exports/group_sales.jsonl"
"""


def _push_arrival_alerts(hooks: Hooks, store: GuestStore, ctx: SourceContext, out: Console) -> None:
    """The pre-arrival job against the demo PMS: what its arrivals screen now shows, and why."""
    today = datetime.now(UTC).date()
    plans = plan_arrivals(store, hooks, ctx.name, AlertsConfig(language="en"), SegmentsConfig(), today)
    first = push_plans(store, hooks, ctx, plans)
    again = push_plans(store, hooks, ctx, plans)  # nothing changed: nothing is pushed
    t = Table("reservation", "rule", "alert at check-in", "why", title=f"Arrivals screen in {ctx.name}")
    for plan in plans[:8]:
        for a in plan.alerts:
            t.add_row(plan.arrival.source_id, a.rule, a.alert.text, "; ".join(a.finding.evidence))
    out.print(t)
    out.print(
        f"  {first.arrivals} arrivals: {first.created} alerts created in {ctx.name}; pushed again: "
        f"{again.created + again.replaced} sent, {again.unchanged} unchanged (no duplicates)"
    )


def run_demo(workdir: Path, out: Console, hooks: Hooks | None = None) -> None:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    keyring = Keyring.generate("demo")
    keyring.write(workdir / "demo.key")
    store = GuestStore.open(f"sqlite:///{workdir / 'demo.db'}", keyring)
    hooks = hooks or load_plugins()
    file_type = hooks.adapter_type("file")
    pms, group = _exports(workdir)
    out.print(
        f"[bold]crmbridge demo[/]: invented guests in {pms.name} and {group.name}, "
        f"store {workdir / 'demo.db'}"
    )
    engine = SyncEngine(store, hooks)
    for name, path in (("legacy_pms", pms), ("group_sales", group)):
        ctx = SourceContext(name, "file", FileConfig(path=str(path.resolve())), base_dir=workdir)
        _sync(engine, ctx, file_type, out)
    _sync_plugin_demos(engine, hooks, store, workdir, out)
    with store.engine.connect() as conn:
        counts = store_counts(conn)
        views = load_guests(conn, keyring)
    out.print(
        f"\nstore holds {counts['guests']} guests from {counts['profile_records']} source records "
        f"and {counts['reservations']} reservations; {counts['merges']} merges; "
        f"{counts['quarantined']} record(s) quarantined"
    )
    multi = [v for v in views if len({r.source for r in v.records}) > 1]
    t = Table("guest", "name", "phone", "linked records", title="Guests seen in both exports")
    for v in multi[:8]:
        m = v.masked()
        t.add_row(
            m["guest_id"][:8],
            m["name"],
            ", ".join(m["phones"]),
            ", ".join(f"{r['source']}/{r['source_id']}" for r in m["records"]),
        )
    out.print(t)
    if multi:
        out.print("\nA sample profile (PII masked):")
        out.print_json(data=multi[0].masked())
    out.print(
        f"\nEverything personal in {workdir / 'demo.db'} is AES-GCM ciphertext; try "
        f"`strings {workdir / 'demo.db'} | grep -i example` to see none of it."
    )
    store.close()
    config = workdir / "crmbridge.toml"
    config.write_text(DEMO_CONFIG.format(path=config), encoding="utf-8")
    out.print(
        f"\nExplore the store afterwards: [bold]crmbridge guests -c {config}[/] "
        "(also `guests show ID`, `status`).",
        highlight=False,
    )
