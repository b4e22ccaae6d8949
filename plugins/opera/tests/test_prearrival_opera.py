"""The pre-arrival job against the OPERA simulator, read back through getAlertNotices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crmbridge_opera.alerts import WITHDRAWN
from crmbridge_opera.simulator import demo_options

from crmbridge.config import Config, SourceConfig, StoreConfig
from crmbridge.engine.sources import build_source
from crmbridge.engine.sync import SyncEngine
from crmbridge.insights.config import AlertsConfig, SegmentsConfig
from crmbridge.insights.prearrival import run_prearrival
from crmbridge.plugins import load_plugins

from .test_push_alerts import posts


def setup(store, sim, tmp_path, lang: str = "en") -> tuple[Config, Any]:
    options = {**demo_options(sim), "backfill_days": 20, "lookahead_days": 14, "page_size": 50}
    cfg = Config(
        path=tmp_path / "config" / "crmbridge.toml",
        store=StoreConfig(),
        sources={"opera": SourceConfig("opera", "opera", None, options)},
        alerts=AlertsConfig(language=lang, lookahead_days=7),
        segments=SegmentsConfig(),
    )
    hooks = load_plugins()
    sync(cfg, hooks, store)
    return cfg, hooks


def sync(cfg: Config, hooks: Any, store) -> None:
    ctx, adapter = build_source(cfg, cfg.sources["opera"], hooks, store)
    for r in SyncEngine(store, hooks).sync_source(ctx, adapter):
        assert r.status == "ok", r.error


def push(cfg: Config, hooks: Any, store, today) -> tuple[list[Any], dict[str, Any]]:
    [(_, plans, summary)] = run_prearrival(cfg, hooks, store, today=today)
    return plans, summary.as_dict()


def on_screen(sim, rid: str) -> set[str]:
    return {a["description"] for a in sim.alerts_of(rid) if a.get("screenNotification")}


def test_arrivals_carry_their_alerts_in_opera_and_a_rerun_pushes_nothing(store, sim, tmp_path, today):
    cfg, hooks = setup(store, sim, tmp_path)
    plans, first = push(cfg, hooks, store, today)
    expected = {p.arrival.source_id: {a.alert.text for a in p.alerts} for p in plans}
    assert first["created"] == sum(len(t) for t in expected.values()) > 0 and first["failed"] == 0
    for rid, texts in expected.items():
        assert on_screen(sim, rid) == texts
    sent = posts(sim)
    _, again = push(cfg, hooks, store, today)
    assert posts(sim) == sent and again["unchanged"] == first["created"] and again["created"] == 0


def test_removing_a_preference_in_opera_retires_its_alert(store, sim, tmp_path, today):
    cfg, hooks = setup(store, sim, tmp_path)
    plans, _ = push(cfg, hooks, store, today)
    [(rid, alert)] = [
        (p.arrival.source_id, a.alert) for p in plans for a in p.alerts if a.rule == "room_preferences"
    ][:1]
    pid = sim.state.reservations[rid]["reservationGuest"]["id"]
    with sim._lock:  # the desk removes the guest's preferences in OPERA
        det = sim.state.profiles[pid]["profileDetails"]
        det["preferenceCollection"] = {"preferenceType": []}
        det["lastModifyDateTime"] = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    sim.add_event("Profile", pid)
    sync(cfg, hooks, store)
    _, summary = push(cfg, hooks, store, today)
    assert summary["retired"] >= 1
    assert alert.text not in on_screen(sim, rid)
    assert any(a["description"] == WITHDRAWN and not a["screenNotification"] for a in sim.alerts_of(rid))


def test_changing_the_hotel_language_rewords_the_alerts_in_opera(store, sim, tmp_path, today):
    cfg, hooks = setup(store, sim, tmp_path)
    _, first = push(cfg, hooks, store, today)
    cfg.alerts = AlertsConfig(language="zh", lookahead_days=7)
    plans, second = push(cfg, hooks, store, today)
    assert second["replaced"] == first["created"] and second["created"] == 0
    texts = {t for p in plans for t in on_screen(sim, p.arrival.source_id)}
    assert any(t.startswith(("第", "首次入住", "客房偏好", "餐饮", "贵宾")) for t in texts)
    assert not any(t.startswith(("Returning guest", "First stay", "Room preferences")) for t in texts)
