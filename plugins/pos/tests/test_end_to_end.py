"""End to end: PMS stays and postings, then Simphony checks through the engine, linked and
turned into dining preferences; a second run changes nothing.

The PMS side is an in-test plugin serving OPERA-like records (the OPERA adapter is built on
another branch); the POS side is the real adapter against the loopback BI simulator.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from crmbridge_pos.simulator import guest_check
from sqlalchemy import select

from crmbridge.adapters.base import AdapterConfig, AdapterType, Batch, SourceContext
from crmbridge.engine.sync import SyncEngine
from crmbridge.hookspecs import hookimpl
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import pos_checks, pos_links, profile_records, reservations
from tests.pos_fixtures import folio, local, reservation, stay

from .conftest import BUS, LOC, simphony_source


class MemoryPms:
    """OPERA-like reservations, stays (one per room segment) and folio postings."""

    class Config(AdapterConfig):
        pass

    @hookimpl
    def crmbridge_adapter_types(self):
        fetch = {"reservations": self.reservations, "stays": self.stays, "folios": self.folios}
        return [AdapterType("memory-pms", self.Config, set(fetch), fetch=fetch)]

    def reservations(self, source, cursor, full):
        rsv = [
            reservation("RSV-884201", "2026-11-18", "2026-11-21"),
            reservation("RSV-884202", "2026-11-19", "2026-11-22"),
            reservation("RSV-884203", "2026-11-19", "2026-11-22"),
            reservation("RSV-884204", "2026-11-18", "2026-11-22"),
        ]
        return iter([Batch(rsv, "r1")])

    def stays(self, source, cursor, full):
        return iter(
            [
                Batch(
                    [
                        stay("STAY-884201", "RSV-884201", "1808", local(18, 15, 2), local(21, 11, 30)),
                        stay("STAY-884202", "RSV-884202", "1505", local(19, 16)),
                        stay("STAY-884203", "RSV-884203", "1505", local(19, 16, 5)),
                        stay("STAY-884204-1", "RSV-884204", "1203", local(18, 14), local(20, 10)),
                        stay("STAY-884204-2", "RSV-884204", "2206", local(20, 10)),
                    ],
                    "s1",
                )
            ]
        )

    def folios(self, source, cursor, full):
        return iter([Batch([folio("TRX-99102", "RSV-884203", "2026-11-20", "76.00", 5102)], "f1")])


def _utc(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC)


D18, D19 = BUS.replace(day=18), BUS.replace(day=19)


def _seed_checks(sim) -> None:
    tea_and_dumplings = [(1001, 1), (2004, 1)]
    checks = [
        # 张伟 in 1808: tea three evenings running, the last one closed after midnight
        guest_check(1605101, 5101, rvc=20, opened=_utc(18, 12), closed=_utc(18, 13), bus_dt=D18,
                    items=tea_and_dumplings, room="1808"),
        guest_check(1605103, 5103, rvc=20, opened=_utc(19, 12), closed=_utc(19, 13), bus_dt=D19,
                    items=[(1001, 2)], room="1808"),
        guest_check(1605104, 5104, rvc=20, opened=_utc(20, 15, 50), closed=_utc(20, 16, 40), bus_dt=BUS,
                    items=[(1001, 1)], room="1808"),
        # shared room 1505: the charge is on Emma Schmidt's folio (2 beers = 76.00)
        guest_check(1605102, 5102, rvc=20, opened=_utc(20, 11), closed=_utc(20, 12), bus_dt=BUS,
                    items=[(1003, 2)], room="1505"),
        # 王芳 after her room move
        guest_check(1605105, 5105, rvc=10, opened=_utc(20, 11), closed=_utc(20, 12), bus_dt=BUS,
                    items=[(2001, 1)], room="2206"),
        # a walk-in paying by WeChat
        guest_check(1605106, 5106, rvc=10, opened=_utc(20, 4), closed=_utc(20, 5), bus_dt=BUS,
                    items=[(2003, 1)], tender=20),
    ]  # fmt: skip
    for c in checks:
        sim.put_check(LOC, c, updated=datetime.fromisoformat(c["clsdUTC"]).replace(tzinfo=UTC))


def _sync_all(store, sim) -> list:
    hooks = load_plugins(extra=[MemoryPms()])
    engine = SyncEngine(store, hooks)
    pms = SourceContext("opera", "memory-pms", MemoryPms.Config())
    results = engine.sync_source(pms, hooks.adapter_type("memory-pms"))
    results += engine.sync_source(simphony_source(sim, days_back=3), hooks.adapter_type("simphony"))
    return results


def _snapshot(store) -> tuple[dict, list]:
    q = (
        select(
            pos_checks.c.check_number, pos_links.c.status, reservations.c.source_id, pos_links.c.updated_at
        )
        .join(pos_links, pos_links.c.check_id == pos_checks.c.id)
        .outerjoin(reservations, reservations.c.id == pos_links.c.reservation_id)
    )
    with store.engine.connect() as c:
        links = {r[0]: tuple(r[1:]) for r in c.execute(q)}
        dining = c.execute(select(profile_records).where(profile_records.c.source == "pos")).all()
    return links, dining


def _guest_of(store, reservation_id: str) -> str:
    q = (
        select(profile_records.c.guest_id)
        .join(reservations, reservations.c.guest_record_id == profile_records.c.id)
        .where(reservations.c.source_id == reservation_id)
    )
    with store.engine.connect() as c:
        return c.execute(q).scalar_one()


def test_room_charged_checks_land_on_the_right_guests_and_a_rerun_changes_nothing(store, sim):
    _seed_checks(sim)
    _sync_all(store, sim)
    links, dining = _snapshot(store)
    assert {n: v[:2] for n, v in links.items()} == {
        "5101": ("linked", "RSV-884201"),
        "5103": ("linked", "RSV-884201"),
        "5104": ("linked", "RSV-884201"),  # 00:40 local on the 21st, business date the 20th
        "5102": ("linked", "RSV-884203"),  # shared room: the folio decides
        "5105": ("linked", "RSV-884204"),  # after the room move
        "5106": ("unlinked", None),  # walk-in
    }
    prefs = {
        r.guest_id: json.loads(
            store.keyring.decrypt(bytes(r.attributes_ct), table="profile_records", column="attributes_ct",
                                  row_id=r.id)
        )["preferences"]
        for r in dining
    }  # fmt: skip
    drinks = {g: {p["code"] for p in ps if p["category"] == "DINING_DRINK"} for g, ps in prefs.items()}
    assert {g: d for g, d in drinks.items() if d} == {
        _guest_of(store, "RSV-884201"): {"Tieguanyin Tea 铁观音"}
    }
    assert len(prefs) == 3  # every linked guest gets an average spend; the walk-in nobody's
    again = [r for r in _sync_all(store, sim) if r.counts.inserted or r.counts.updated]
    assert again == []
    assert _snapshot(store) == (links, dining)
