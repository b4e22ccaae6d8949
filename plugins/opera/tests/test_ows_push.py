"""Writing back to the simulated OPERA 5: GuestRequests alerts, profile notes, preferences."""

from __future__ import annotations

import pytest
from crmbridge_opera.ows.simdata import SimPreference

from crmbridge.models import Alert
from crmbridge.plugins import load_plugins

from .ows_support import ows_config, ows_source


def _alert(
    pms_id: str, text: str, rule: str = "room_temperature", target: str = "reservation", code: str = "CRM"
):
    return Alert(target=target, pms_source="opera5", pms_id=pms_id, code=code, text=text, rule=rule)


def push(ctx, alerts):
    return load_plugins().push_alerts(ctx, alerts)


@pytest.fixture
def arrivals(ows_sim) -> list[str]:
    return [r.rid for r in ows_sim.state.reservations.values() if r.status == "RESERVED"][:3]


@pytest.fixture
def guest(ows_sim) -> str:
    return next(iter(ows_sim.state.profiles))


def test_pushing_the_same_alerts_twice_leaves_one_copy_of_each(store, ows_sim, arrivals):
    ows_sim.fault("http503", "GuestRequests")  # refused before anything was done: resent
    ctx = ows_source(store, ows_config(ows_sim))
    alerts = [_alert(r, f"上次反映房间太热，请提前将空调调至22度 ({r})") for r in arrivals]
    first, second = push(ctx, alerts), push(ctx, alerts)
    assert [r.status for r in first] == ["created"] * 3
    assert [r.status for r in second] == ["unchanged"] * 3
    assert [len(ows_sim.alerts_of(r)) for r in arrivals] == [1, 1, 1]
    shown = ows_sim.alerts_of(arrivals[0])[0]
    assert (shown.code, shown.area, shown.screen) == ("CRM", "CHECKIN", True)


def test_a_changed_alert_is_updated_in_place(store, ows_sim, arrivals):
    ctx = ows_source(store, ows_config(ows_sim))
    [r1] = push(ctx, [_alert(arrivals[0], "偏好高楼层 / high floor")])
    [r2] = push(ctx, [_alert(arrivals[0], "偏好高楼层，远离电梯 / high floor, away from the lift")])
    assert (r1.status, r2.status) == ("created", "replaced")
    [shown] = ows_sim.alerts_of(arrivals[0])
    assert shown.text == "偏好高楼层，远离电梯 / high floor, away from the lift"
    assert ctx.ledger.get("reservation", arrivals[0], "room_temperature").external_id == str(shown.id)


def test_an_answer_lost_after_the_write_was_applied_leaves_exactly_one_alert(store, ows_sim, arrivals):
    ows_sim.fault("lost", "GuestRequests", delay=0.8)
    ctx = ows_source(store, ows_config(ows_sim, timeout_s=0.3))
    [res] = push(ctx, [_alert(arrivals[0], "VIP 金卡会员，安排欢迎水果")])
    assert res.status == "created"
    assert len(ows_sim.alerts_of(arrivals[0])) == 1
    assert ctx.ledger.get("reservation", arrivals[0], "room_temperature").status == "sent"


def test_a_soap_fault_on_a_write_is_settled_by_reading_back(store, ows_sim, arrivals):
    ows_sim.fault("soap_fault", "InsertComment")  # failed before storing: read-back finds nothing
    ctx = ows_source(store, ows_config(ows_sim))
    pid = ows_sim.state.reservations[arrivals[0]].pid
    [res] = push(ctx, [_alert(pid, "Prefers green tea / 喜欢绿茶", target="profile", rule="tea", code="GEN")])
    assert res.status == "created"
    assert [c.text for c in ows_sim.state.profiles[pid].comments] == ["Prefers green tea / 喜欢绿茶"]


def test_after_a_crash_mid_push_the_next_run_sends_nothing_more(store, ows_sim, arrivals, guest):
    ctx = ows_source(store, ows_config(ows_sim))
    alert = _alert(arrivals[0], "Anniversary: cake at 19:00 / 纪念日")
    note = _alert(guest, "Allergy: peanuts / 花生过敏", target="profile", rule="allergy", code="GEN")
    push(ctx, [alert, note])
    # The process died after OPERA stored them and before the ledger said "sent".
    ctx.ledger.record(alert, "sending")
    ctx.ledger.record(note, "sending")
    results = push(ctx, [alert, note])
    assert [r.detail for r in results] == ["confirmed by read-back"] * 2
    assert len(ows_sim.alerts_of(arrivals[0])) == 1 and len(ows_sim.state.profiles[guest].comments) == 1


def test_a_refused_write_fails_alone_and_says_what_to_check(store, ows_sim, arrivals):
    ctx = ows_source(store, ows_config(ows_sim))
    bad, good = push(ctx, [_alert("999999", "x"), _alert(arrivals[0], "Late arrival 23:00")])
    assert bad.status == "failed" and "Reservation not found" in bad.detail and "hotel_code" in bad.detail
    assert good.status == "created"


def test_profile_notes_are_replaced_when_changed_and_removed_when_retired(store, ows_sim, guest):
    ctx = ows_source(store, ows_config(ows_sim))
    note = _alert(guest, "Prefers green tea at turndown", target="profile", rule="tea", code="GEN")
    assert [r.status for r in push(ctx, [note]) + push(ctx, [note])] == ["created", "unchanged"]
    changed = note.model_copy(update={"text": "Prefers oolong tea at turndown / 喜欢乌龙茶"})
    assert push(ctx, [changed])[0].status == "replaced"
    assert [c.text for c in ows_sim.state.profiles[guest].comments] == [changed.text]
    retire = note.model_copy(update={"action": "retire", "text": ""})
    assert push(ctx, [retire])[0].status == "retired"
    assert ows_sim.state.profiles[guest].comments == []


def test_a_preference_is_inserted_once_and_deleted_when_retired(store, ows_sim, guest):
    ctx = ows_source(store, ows_config(ows_sim))
    pref = _alert(
        guest, "Buckwheat pillow / 荞麦枕", target="profile", rule="pillow", code="PREF:PILLOW:BUCKWHEAT"
    )
    assert [r.status for r in push(ctx, [pref]) + push(ctx, [pref])] == ["created", "unchanged"]
    ours = [p for p in ows_sim.state.profiles[guest].preferences if p.value == "BUCKWHEAT"]
    assert len(ours) == 1 and ours[0].insert_user == ows_sim.username
    push(ctx, [pref.model_copy(update={"action": "retire"})])
    assert not [p for p in ows_sim.state.profiles[guest].preferences if p.value == "BUCKWHEAT"]


def test_a_preference_the_desk_entered_is_never_touched(store, ows_sim, guest):
    with ows_sim._lock:
        ows_sim.state.profiles[guest].preferences.append(
            SimPreference("DIET", "VEGETARIAN", "素食", "FRONTDESK")
        )
    ctx = ows_source(store, ows_config(ows_sim))
    pref = _alert(
        guest, "素食 / vegetarian", target="profile", rule="dietary:pref", code="PREF:DIET:VEGETARIAN"
    )
    [res] = push(ctx, [pref])
    assert res.status == "unchanged" and "entered by staff" in res.detail
    push(ctx, [pref.model_copy(update={"action": "retire"})])
    kept = [p for p in ows_sim.state.profiles[guest].preferences if p.value == "VEGETARIAN"]
    assert [(p.insert_user, p.description) for p in kept] == [("FRONTDESK", "素食")]
    assert ows_sim.calls("InsertPreference", ok=False) == ows_sim.calls("DeletePreference", ok=False) == 0
