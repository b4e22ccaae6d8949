"""Writing back to the simulated OPERA through `crmbridge_push_alerts` and the push ledger."""

from __future__ import annotations

import pytest

from crmbridge.models import Alert
from crmbridge.plugins import load_plugins

from .conftest import sim_config, source


def _alert(
    pms_id: str, text: str, rule: str = "room_temperature", target: str = "reservation", code: str = "CRM"
):
    return Alert(target=target, pms_source="opera", pms_id=pms_id, code=code, text=text, rule=rule)


def push(ctx, alerts):
    return load_plugins().push_alerts(ctx, alerts)


def posts(sim, operation: str = "postBulkReservationAlerts") -> int:
    """Writes OPERA accepted (a faulted attempt is not one)."""
    return sum(1 for r in sim.requests if r.operation == operation and r.status < 300)


@pytest.fixture
def arrivals(sim) -> list[str]:
    return [r for r, i in sim.state.reservations.items() if i["reservationStatus"] == "Reserved"][:3]


@pytest.fixture
def profile_id(sim) -> str:
    return next(iter(sim.state.profiles))


def test_pushing_the_same_alerts_twice_leaves_one_copy_of_each(store, sim, arrivals):
    sim.fault(503, operation="postBulkReservationAlerts")
    sim.fault(429, retry_after=0, operation="getAlertNotices")
    ctx = source(store, sim_config(sim))
    alerts = [_alert(r, f"上次反映房间太热，请提前将空调调至22度 ({r})") for r in arrivals]
    alerts.append(_alert(arrivals[0], "素食 / vegetarian breakfast", rule="diet"))
    first = push(ctx, alerts)
    second = push(ctx, alerts)
    assert [r.status for r in first] == ["created"] * 4
    assert [r.status for r in second] == ["unchanged"] * 4
    assert [len(sim.alerts_of(r)) for r in arrivals] == [2, 1, 1]
    shown = sim.alerts_of(arrivals[1])[0]
    assert (shown["code"], shown["area"], shown["screenNotification"]) == ("CRM", "CheckIn", True)
    assert posts(sim) == 4


def test_a_changed_alert_replaces_the_old_one(store, sim, arrivals):
    ctx = source(store, sim_config(sim))
    rid = arrivals[0]
    [r1] = push(ctx, [_alert(rid, "偏好高楼层 / high floor")])
    [r2] = push(ctx, [_alert(rid, "偏好高楼层，远离电梯 / high floor, away from the lift")])
    assert (r1.status, r2.status) == ("created", "replaced")
    [shown] = sim.alerts_of(rid)
    assert shown["description"] == "偏好高楼层，远离电梯 / high floor, away from the lift"
    assert ctx.ledger.get("reservation", rid, "room_temperature").external_id == shown["id"]


def test_a_lost_answer_is_resolved_by_reading_the_alerts_back(store, sim, arrivals):
    # OPERA applies the alert but the answer never arrives within timeout_s.
    sim.fault(None, after=True, delay=0.6, operation="postBulkReservationAlerts")
    ctx = source(store, sim_config(sim, timeout_s=0.3))
    [res] = push(ctx, [_alert(arrivals[0], "VIP 金卡会员，安排欢迎水果")])
    assert res.status == "created"
    assert len(sim.alerts_of(arrivals[0])) == 1 and posts(sim) == 1
    assert any(r.operation == "getAlertNotices" for r in sim.requests)
    assert ctx.ledger.get("reservation", arrivals[0], "room_temperature").status == "sent"


def test_a_write_that_failed_uncertainly_and_was_not_applied_is_sent_once_more(store, sim, arrivals):
    sim.fault(500, operation="postBulkReservationAlerts")  # refused before anything was stored
    ctx = source(store, sim_config(sim))
    [res] = push(ctx, [_alert(arrivals[0], "Allergy: peanuts / 花生过敏")])
    assert res.status == "created"
    sent = [r.status for r in sim.requests if r.operation == "postBulkReservationAlerts"]
    assert sent == [500, 201] and len(sim.alerts_of(arrivals[0])) == 1


def test_after_a_crash_mid_push_the_next_push_reads_back_before_sending(store, sim, arrivals):
    ctx = source(store, sim_config(sim))
    alert = _alert(arrivals[0], "Anniversary: cake at 19:00 / 纪念日")
    push(ctx, [alert])
    # The process died after OPERA stored the alert and before the ledger said "sent".
    ctx.ledger.record(alert, "sending", external_id=None)
    before = posts(sim)
    [res] = push(ctx, [alert])
    assert res.status == "created" and res.detail == "confirmed by read-back"
    assert posts(sim) == before and len(sim.alerts_of(arrivals[0])) == 1


def test_an_unknown_reservation_fails_alone_with_a_clear_reason(store, sim, arrivals):
    ctx = source(store, sim_config(sim))
    bad, good = push(ctx, [_alert("999999", "x"), _alert(arrivals[0], "Late arrival 23:00")])
    assert bad.status == "failed" and "404 Reservation not found" in bad.detail and "hotel_id" in bad.detail
    assert good.status == "created"


def test_profile_notes_are_written_once_and_replaced_when_changed(store, sim, profile_id):
    ctx = source(store, sim_config(sim))
    note = _alert(
        profile_id, "Prefers green tea at turndown / 喜欢绿茶", target="profile", rule="tea", code="GEN"
    )
    assert [r.status for r in push(ctx, [note]) + push(ctx, [note])] == ["created", "unchanged"]
    changed = note.model_copy(update={"text": "Prefers oolong tea at turndown / 喜欢乌龙茶"})
    assert push(ctx, [changed])[0].status == "replaced"
    notes = sim.state.profiles[profile_id]["profileDetails"]["comments"]["commentInfo"]
    assert [c["comment"]["text"]["value"] for c in notes] == [changed.text]


def test_profile_preferences_are_posted_once(store, sim, profile_id):
    ctx = source(store, sim_config(sim))
    pref = _alert(
        profile_id, "Buckwheat pillow / 荞麦枕", target="profile", rule="pillow", code="PREF:PILLOW:BUCKWHEAT"
    )
    assert [r.status for r in push(ctx, [pref]) + push(ctx, [pref])] == ["created", "unchanged"]
    groups = sim.state.profiles[profile_id]["profileDetails"]["preferenceCollection"]["preferenceType"]
    assert [
        p["preferenceCode"] for g in groups if g["preferenceType"] == "PILLOW" for p in g["preference"]
    ] == ["BUCKWHEAT"]
    assert posts(sim, "postPreference") == 1


def test_alerts_go_to_the_configured_area_unless_the_rule_names_one(store, sim, arrivals):
    ctx = source(store, sim_config(sim, alert_area="Reservation", alert_code="VIPNOTE"))
    in_house = _alert(arrivals[1], "Turndown: extra pillows").model_copy(update={"area": "InHouse"})
    bad = _alert(arrivals[2], "x").model_copy(update={"area": "Lobby"})
    results = push(ctx, [_alert(arrivals[0], "Welcome back / 欢迎回来"), in_house, bad])
    assert [r.status for r in results] == ["created", "created", "failed"]
    assert "'Lobby' is not one of CheckIn" in results[2].detail
    assert [(a["code"], a["area"]) for a in sim.alerts_of(arrivals[0]) + sim.alerts_of(arrivals[1])] == [
        ("VIPNOTE", "Reservation"),
        ("VIPNOTE", "InHouse"),
    ]
