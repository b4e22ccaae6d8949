"""The simphony adapter through the sync engine: BI checks from the simulator into the store."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from crmbridge_pos import adapter
from crmbridge_pos.simulator import guest_check
from sqlalchemy import func, select

from crmbridge.engine.sync import SyncEngine
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import pos_checks, pos_items, quarantine

from .conftest import BUS, LOC, simphony_source


@functools.cache
def _hooks():
    return load_plugins()  # scanning entry points is slow; the plugins hold no state


def _at(hh: int, mm: int = 0, day: int = 20) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC)


def _dinner(cid: int, num: int, **kw) -> dict:
    base = dict(rvc=10, opened=_at(11), closed=_at(12), bus_dt=BUS, items=[(1001, 2), (2003, 1)], room="1808")
    return guest_check(cid, num, **(base | kw))


def _sync(store, sim, **over):
    hooks = _hooks()
    [r] = SyncEngine(store, hooks).sync_source(simphony_source(sim, **over), hooks.adapter_type("simphony"))
    return r


def _lines(store, source_id: str) -> list:
    with store.engine.connect() as c:
        cid = c.execute(select(pos_checks.c.id).where(pos_checks.c.source_id == source_id)).scalar_one()
        return c.execute(
            select(pos_items).where(pos_items.c.check_id == cid).order_by(pos_items.c.position)
        ).all()


def test_the_core_routes_pos_checks_to_the_simphony_type_and_no_other(sim):
    hooks = _hooks()
    assert hooks.adapter_type("simphony").fetch["pos_checks"] is adapter.fetch_simphony
    assert hooks.adapter_type("pos-file").fetch["pos_checks"] is adapter.fetch_pos_file
    ctx = simphony_source(sim)
    ctx.type = "file"
    with pytest.raises(LookupError, match="does not fetch pos_checks"):
        hooks.fetch("pos_checks", ctx, None, False)


def test_dimensions_give_items_outlets_and_tenders_their_names(store, sim):
    sim.put_check(LOC, _dinner(1600001, 4711, discount_pct=10, service_pct=15), updated=_at(12))
    r = _sync(store, sim)
    assert (r.status, r.counts.inserted) == ("ok", 1)
    with store.engine.connect() as c:
        chk = c.execute(select(pos_checks)).one()
    assert (chk.outlet, chk.check_number, chk.room_number) == ("Jade Garden 翡翠轩", "4711", "1808")
    # 2 x 68 + 298 = 434; -10% = -43.40; +15% of 390.60 = 58.59; total 449.19
    assert (str(chk.total_amount), str(chk.discount_amount), str(chk.service_charge_amount)) == (
        "449.19", "-43.40", "58.59",
    )  # fmt: skip
    assert str(chk.room_charge_amount) == "449.19"
    lines = [
        (x.kind, x.name, x.item_group, str(x.quantity), str(x.amount))
        for x in _lines(store, f"{LOC}:1600001")
    ]
    assert lines == [
        ("item", "Tieguanyin Tea 铁观音", "Tea", "2.000", "136.00"),
        ("item", "Peking Duck 北京烤鸭", "Roast 烧烤", "1.000", "298.00"),
        ("discount", "Member 10% 会员九折", None, "1.000", "-43.40"),
        ("service_charge", "Service Charge 15% 服务费", None, "1.000", "58.59"),
        ("tender", "Room Charge 挂房账", None, "1.000", "449.19"),
    ]


def test_voided_and_returned_lines_are_kept_and_marked(store, sim):
    check = _dinner(1600002, 4712, items=[(1003, 2), (2004, 1)], voided_lines=(2,), returned=[(1003, 1)])
    sim.put_check(LOC, check, updated=_at(12))
    _sync(store, sim)
    lines = {
        (x.name, x.voided, x.returned): (str(x.quantity), str(x.amount))
        for x in _lines(store, f"{LOC}:1600002")
    }
    assert lines[("Xiaolongbao 小笼包", 1, 0)] == ("1.000", "42.00")
    assert lines[("Tsingtao Beer 青岛啤酒", 0, 1)] == ("-1.000", "-38.00")
    with store.engine.connect() as c:
        assert str(c.execute(select(pos_checks.c.total_amount)).scalar_one()) == "38.00"


def test_second_sync_asks_only_for_checks_changed_since_the_last_pass(store, sim, clock):
    sim.put_check(LOC, _dinner(1600003, 4713), updated=_at(12))
    sim.put_check(LOC, _dinner(1600004, 4714, room="1505"), updated=_at(12, 30))
    first = _sync(store, sim)
    assert first.counts.inserted == 2
    pass_started = next(b for op, b in sim.calls if op == "getGuestChecks")
    assert "changedSinceUTC" not in pass_started
    clock.advance(minutes=20)
    sim.put_check(LOC, _dinner(1600004, 4714, room="1505", items=[(1001, 3)]), updated=clock.now)
    sim.calls.clear()
    second = _sync(store, sim)
    asked = [b for op, b in sim.calls if op == "getGuestChecks"]
    # the server's time when the first pass started, less a minute of overlap
    assert asked and all(b["changedSinceUTC"] == "2026-11-20T13:59:00" for b in asked)
    assert (second.counts.fetched, second.counts.updated, second.counts.inserted) == (1, 1, 0)
    assert [x.name for x in _lines(store, f"{LOC}:1600004") if x.kind == "item"] == ["Tieguanyin Tea 铁观音"]


def test_business_dates_from_the_last_finished_one_to_the_latest_are_read(store, sim):
    _sync(store, sim)
    first = [b["busDt"] for op, b in sim.calls if op == "getGuestChecks"]
    assert first == ["2026-11-19", "2026-11-20"]  # days_back = 2
    sim.location(LOC, BUS + timedelta(days=1))
    sim.calls.clear()
    _sync(store, sim)
    # the day before the last finished one again: checks closed after midnight
    assert [b["busDt"] for op, b in sim.calls if op == "getGuestChecks"] == [
        "2026-11-19",
        "2026-11-20",
        "2026-11-21",
    ]


def test_malformed_check_is_quarantined_and_the_rest_lands(store, sim):
    bad_amount = _dinner(1600006, 4716)
    bad_amount["detailLines"][0]["dspTtl"] = "sixty-eight"
    no_total = _dinner(1600007, 4717)
    del no_total["chkTtl"]
    for c in (_dinner(1600005, 4715), bad_amount, no_total):
        sim.put_check(LOC, c, updated=_at(12))
    r = _sync(store, sim)
    assert (r.counts.inserted, r.counts.quarantined) == (1, 2)
    with store.engine.connect() as c:
        reasons = dict(c.execute(select(quarantine.c.source_id, quarantine.c.reason)).all())
    assert "detailLines[0].dspTtl is not a number" in reasons[f"{LOC}:1600006"]
    assert "chkTtl is missing" in reasons[f"{LOC}:1600007"]


def test_resync_with_full_changes_nothing(store, sim):
    sim.put_check(LOC, _dinner(1600008, 4718, chk_name="ZHANG/WEI"), updated=_at(12))
    _sync(store, sim)
    hooks = _hooks()
    [r] = SyncEngine(store, hooks).sync_source(
        simphony_source(sim), hooks.adapter_type("simphony"), full=True
    )
    assert (r.counts.inserted, r.counts.updated, r.counts.unchanged) == (0, 0, 1)
    with store.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(pos_items)).scalar_one() == 3


def test_amounts_are_exact_decimals(store, sim):
    sim.put_check(LOC, _dinner(1600009, 4719, items=[(1002, 3)], service_pct=15), updated=_at(12))
    _sync(store, sim)
    with store.engine.connect() as c:
        total = c.execute(select(pos_checks.c.total_amount)).scalar_one()
    assert Decimal(total) == Decimal("165.60")


def test_interrupted_pass_resumes_at_the_business_date_it_reached(store, sim):
    sim.put_check(LOC, _dinner(1600010, 4720), updated=_at(12))
    hooks = _hooks()
    ctx = simphony_source(sim)
    [r] = SyncEngine(store, hooks, should_stop=lambda: True).sync_source(ctx, hooks.adapter_type("simphony"))
    assert r.status == "interrupted"
    assert [b["busDt"] for op, b in sim.calls if op == "getGuestChecks"] == ["2026-11-19"]
    sim.calls.clear()
    [r] = SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("simphony"))
    assert (r.status, r.counts.inserted) == ("ok", 1)
    assert [b["busDt"] for op, b in sim.calls if op == "getGuestChecks"] == ["2026-11-20"]
