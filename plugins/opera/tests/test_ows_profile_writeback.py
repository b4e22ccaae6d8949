"""Profile write-back end to end on both OPERA simulators: a DIET signal learned from POS
becomes one profile preference and one CRM note; removing its evidence retires them; a
preference the desk entered is never touched."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from crmbridge_opera.ows.simdata import SimPreference
from crmbridge_opera.ows.simulator import demo_options as ows_options
from crmbridge_opera.simulator import demo_options as ohip_options
from sqlalchemy import delete, insert, select

from crmbridge.config import Config, SourceConfig, StoreConfig
from crmbridge.engine.sources import build_source
from crmbridge.engine.sync import SyncEngine
from crmbridge.insights.config import AlertsConfig, SegmentsConfig
from crmbridge.insights.dining import record_id_for
from crmbridge.insights.prearrival import run_prearrival
from crmbridge.models import GuestProfile, Preference
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import profile_records, reservations
from crmbridge.store.writer import BatchWriter

from .ows_support import PASSWORD

RULES = {"dietary": {"target": "both"}}


def config(tmp_path, name: str, kind: str, options: dict[str, Any]) -> Config:
    return Config(
        path=tmp_path / "crmbridge.toml",
        store=StoreConfig(),
        sources={name: SourceConfig(name, kind, None, options)},
        alerts=AlertsConfig(language="en", lookahead_days=7, rules=RULES),
        segments=SegmentsConfig(),
    )


def sync(cfg: Config, store) -> None:
    hooks = load_plugins()
    for src in cfg.sources.values():
        ctx, adapter = build_source(cfg, src, hooks, store)
        for r in SyncEngine(store, hooks).sync_source(ctx, adapter):
            assert r.status == "ok", r.error


def prearrival(cfg: Config, store, today) -> tuple[list[Any], dict[str, Any]]:
    [(_, plans, summary)] = run_prearrival(cfg, load_plugins(), store, today=today)
    return plans, summary.as_dict()


def guest_of(store, source: str, rid: str) -> tuple[str, str]:
    """(guest id, PMS profile id) of a synced reservation."""
    with store.engine.connect() as c:
        row = c.execute(
            select(profile_records.c.guest_id, profile_records.c.source_id)
            .join(reservations, reservations.c.guest_record_id == profile_records.c.id)
            .where(reservations.c.source == source, reservations.c.source_id == rid)
        ).one()
    return row.guest_id, row.source_id


def learn_from_pos(store, guest_id: str, code: str = "VEGETARIAN") -> None:
    """What the dining insights write after the guest's POS checks: a `pos` record with an
    inferred DIET preference. (Written directly: the POS linking path has its own tests.)"""
    profile = GuestProfile(
        source="pos",
        source_id=record_id_for(guest_id),
        preferences=[Preference(category="DIET", code=code, confidence=0.9)],
    )
    with store.engine.begin() as conn:
        w = BatchWriter(conn, store.keyring)
        rid = str(uuid.uuid4())
        row = w._profile_row(rid, profile, w._hash("profile_records", profile, set()))
        conn.execute(insert(profile_records), [row | {"id": rid, "guest_id": guest_id}])


def forget_pos(store, guest_id: str) -> None:
    """The checks were unlinked: the dining record goes, as `refresh_dining_insights` does."""
    with store.engine.begin() as conn:
        conn.execute(delete(profile_records).where(profile_records.c.source_id == record_id_for(guest_id)))


def undieted_arrival(plans) -> str:
    return next(
        p.arrival.source_id for p in plans if p.profile_id and not any(a.rule == "dietary" for a in p.alerts)
    )


# -- OPERA 5 (OWS) --------------------------------------------------------------------------
@pytest.fixture
def ows_cfg(ows_sim, tmp_path) -> Config:
    opts = {**ows_options(ows_sim), "password": PASSWORD, "backfill_days": 20, "max_requests_per_second": 100}
    return config(tmp_path, "opera5", "opera-ows", opts)


def ows_diet(sim, pid: str) -> list[SimPreference]:
    return [p for p in sim.state.profiles[pid].preferences if p.type == "DIET"]


def test_ows_a_pos_diet_signal_becomes_one_preference_and_one_note_then_retires(
    store, ows_sim, ows_cfg, ows_today
):
    sync(ows_cfg, store)
    plans, _ = prearrival(ows_cfg, store, ows_today)
    rid = undieted_arrival(plans)
    gid, pid = guest_of(store, "opera5", rid)
    learn_from_pos(store, gid)
    _, first = prearrival(ows_cfg, store, ows_today)
    _, again = prearrival(ows_cfg, store, ows_today)
    assert first["failed"] == 0 and again["created"] == again["replaced"] == again["failed"] == 0
    [pref] = ows_diet(ows_sim, pid)
    assert (pref.value, pref.insert_user) == ("VEGETARIAN", ows_sim.username)
    [note] = [c for c in ows_sim.state.profiles[pid].comments if c.title == "crmbridge dietary"]
    assert note.text == "Dining: vegetarian"
    # A sync reads the profile back: crmbridge's own preference is not taken as new evidence.
    sync(ows_cfg, store)
    forget_pos(store, gid)
    _, gone = prearrival(ows_cfg, store, ows_today)
    assert gone["retired"] >= 2
    assert ows_diet(ows_sim, pid) == []
    assert not [c for c in ows_sim.state.profiles[pid].comments if c.title == "crmbridge dietary"]


def test_ows_a_desk_entered_preference_is_never_touched(store, ows_sim, ows_cfg, ows_today):
    sync(ows_cfg, store)
    plans, _ = prearrival(ows_cfg, store, ows_today)
    rid = undieted_arrival(plans)
    gid, pid = guest_of(store, "opera5", rid)
    with ows_sim._lock:
        ows_sim.state.profiles[pid].preferences.append(
            SimPreference("DIET", "VEGETARIAN", "素食 (desk)", "FRONTDESK")
        )
    learn_from_pos(store, gid)
    prearrival(ows_cfg, store, ows_today)
    forget_pos(store, gid)
    prearrival(ows_cfg, store, ows_today)
    assert [(p.value, p.description, p.insert_user) for p in ows_diet(ows_sim, pid)] == [
        ("VEGETARIAN", "素食 (desk)", "FRONTDESK")
    ]
    assert ows_sim.calls("InsertPreference", ok=False) == ows_sim.calls("DeletePreference", ok=False) == 0


# -- OPERA Cloud (OHIP) ---------------------------------------------------------------------
@pytest.fixture
def ohip_cfg(sim, tmp_path) -> Config:
    opts = {**ohip_options(sim), "backfill_days": 20, "lookahead_days": 14, "page_size": 50}
    return config(tmp_path, "opera", "opera", opts)


def ohip_diet(sim, pid: str) -> list[dict[str, Any]]:
    groups = (
        sim.state.profiles[pid]["profileDetails"].get("preferenceCollection", {}).get("preferenceType", [])
    )
    return [p for g in groups if g["preferenceType"] == "DIET" for p in g["preference"]]


def ohip_notes(sim, pid: str) -> list[str]:
    infos = sim.state.profiles[pid]["profileDetails"].get("comments", {}).get("commentInfo", [])
    return [
        c["comment"]["text"]["value"]
        for c in infos
        if c["comment"].get("commentTitle") == "crmbridge dietary"
    ]


def test_ohip_a_pos_diet_signal_becomes_one_preference_and_one_note_then_retires(store, sim, ohip_cfg, today):
    sync(ohip_cfg, store)
    plans, _ = prearrival(ohip_cfg, store, today)
    rid = undieted_arrival(plans)
    gid, pid = guest_of(store, "opera", rid)
    learn_from_pos(store, gid)
    _, first = prearrival(ohip_cfg, store, today)
    _, again = prearrival(ohip_cfg, store, today)
    assert first["failed"] == 0 and again["created"] == again["replaced"] == again["failed"] == 0
    assert [p["preferenceCode"] for p in ohip_diet(sim, pid)] == ["VEGETARIAN"]
    assert ohip_notes(sim, pid) == ["Dining: vegetarian"]
    sim.add_event("Profile", pid)  # the write shows up as a profile change
    sync(ohip_cfg, store)
    forget_pos(store, gid)
    _, gone = prearrival(ohip_cfg, store, today)
    assert gone["retired"] >= 2 and gone["failed"] == 0
    assert ohip_diet(sim, pid) == []
    assert ohip_notes(sim, pid) == ["(withdrawn by CRM / 已撤销)"]  # OHIP cannot delete a note


def test_ohip_a_desk_entered_preference_is_never_touched(store, sim, ohip_cfg, today):
    sync(ohip_cfg, store)
    plans, _ = prearrival(ohip_cfg, store, today)
    rid = undieted_arrival(plans)
    gid, pid = guest_of(store, "opera", rid)
    with sim._lock:
        det = sim.state.profiles[pid]["profileDetails"]
        det.setdefault("preferenceCollection", {"preferenceType": []})["preferenceType"].append(
            {
                "preferenceType": "DIET",
                "preference": [{"preferenceCode": "VEGETARIAN", "description": "desk"}],
            }
        )
    learn_from_pos(store, gid)
    prearrival(ohip_cfg, store, today + timedelta(days=0))
    forget_pos(store, gid)
    prearrival(ohip_cfg, store, today)
    assert ohip_diet(sim, pid) == [{"preferenceCode": "VEGETARIAN", "description": "desk"}]
    assert not [r for r in sim.requests if r.operation in ("postPreference", "deletePreference")]
