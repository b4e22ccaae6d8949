"""Real-time alerts: a reservation that lands within the lookahead has its alerts in the PMS
within seconds of its batch committing, once, by the same rules as the scheduled job."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmbridge.engine.sources import build_source
from crmbridge.engine.sync import SyncEngine
from crmbridge.insights.realtime import RealtimeAlerts

from .factories import reservation
from .receiver_helpers import wait_for
from .test_prearrival import TODAY, guest, push, setup_store

NEW_GUEST = guest(
    source_id="P-7100",
    local_name="李娜",
    given_name="Na",
    surname="Li",
    birth_date=None,
    emails=[{"address": "li.na.rt@example.cn"}],
    phones=[{"number": "+86 137 0013 7100"}],
    preferences=[{"category": "ROOM", "code": "HIGH_FLOOR"}],
)


@pytest.fixture
def hotel(store, tmp_path) -> Iterator[tuple]:
    pms, cfg, hooks = setup_store(store, tmp_path)
    push(cfg, hooks, store)  # the scheduled job already ran this morning
    rt = RealtimeAlerts(cfg, hooks, store, debounce_s=0.05, today=lambda: TODAY).start()
    engine = SyncEngine(store, hooks, on_reservations=rt.notify)
    ctx, adapter = build_source(cfg, cfg.sources["pms"], hooks, store)

    def sync() -> None:
        for r in engine.sync_source(ctx, adapter):
            assert r.status == "ok", r.error

    yield pms, rt, sync
    rt.stop()


def test_a_new_reservation_within_the_lookahead_has_its_alerts_pushed_within_seconds(hotel):
    pms, _rt, sync = hotel
    before = dict(pms.screen)
    pms.reservations.append(
        reservation("R-NEW", source="pms", arrival="2026-11-24", departure="2026-11-26",
                    special_requests=[], guest=NEW_GUEST)
    )  # fmt: skip
    sync()
    wait_for(lambda: ("R-NEW", "room_preferences") in pms.screen, timeout=10, what="the alert in the PMS")
    assert pms.screen[("R-NEW", "room_preferences")] == "Room preferences: high floor"
    assert {k: v for k, v in pms.screen.items() if k[0] != "R-NEW"} == before  # only that guest's


def test_seeing_the_same_reservation_again_pushes_nothing(hotel):
    pms, rt, sync = hotel
    pms.reservations.append(
        reservation("R-NEW", source="pms", arrival="2026-11-24", departure="2026-11-26",
                    special_requests=[], guest=NEW_GUEST)
    )  # fmt: skip
    sync()
    wait_for(lambda: ("R-NEW", "room_preferences") in pms.screen and rt.idle(), what="the first push")
    calls, passes = pms.calls, rt.passes
    sync()  # the full re-read notifies every arrival again
    wait_for(lambda: rt.passes > passes and rt.idle(), what="the second pass")
    assert pms.calls == calls  # the ledger says everything is already there


def test_a_changed_reservation_replaces_its_alert_in_place(hotel):
    pms, _rt, sync = hotel
    pms.reservations[1] = reservation(
        "R-NEXT", source="pms", arrival="2026-11-25", departure="2026-11-28", special_requests=[],
        guest=guest(preferences=[{"category": "PILLOW", "code": "BUCKWHEAT"},
                                 {"category": "ROOM", "code": "QUIET"}]),
    )  # fmt: skip
    sync()
    wait_for(
        lambda: "quiet" in pms.screen[("R-NEXT", "room_preferences")],
        timeout=10,
        what="the replaced alert",
    )


def test_an_arrival_beyond_the_lookahead_waits_for_its_scheduled_run(hotel):
    pms, rt, sync = hotel
    calls = pms.calls
    pms.reservations.append(
        reservation("R-LATER", source="pms", arrival="2026-12-20", departure="2026-12-22",
                    special_requests=[], guest=NEW_GUEST)
    )  # fmt: skip
    sync()
    wait_for(rt.idle, what="the trigger idle")
    assert pms.calls == calls and not [k for k in pms.screen if k[0] == "R-LATER"]


def test_a_ctrip_push_for_a_known_guest_puts_her_pms_arrivals_alerts_in_within_seconds(store, tmp_path):
    from datetime import date

    from crmbridge.config import ReceiverConfig
    from crmbridge.receiver import PushRoute, Receiver
    from plugins.ctrip.tests.messages import CONFIG, ctrip_source, messages, order

    pms, cfg, hooks = setup_store(store, tmp_path)  # nothing pushed yet: the schedule is at 14:00
    rt = RealtimeAlerts(cfg, hooks, store, debounce_s=0.05, today=lambda: TODAY).start()
    route = PushRoute(CONFIG.path, ctrip_source(store), hooks.adapter_type("ctrip"))
    try:
        with Receiver(store, hooks, [route], ReceiverConfig(port=0, retry_seconds=0.2)) as r:
            r.processor.listen(rt.notify)
            from crmbridge_ctrip.simulator import CtripClient

            with CtripClient(r.url + CONFIG.path) as client:  # 王芳 books her stay on Ctrip
                assert client.send(
                    messages().order(order("CT2026112501", arrival=date(2026, 11, 25)))
                ).success
            wait_for(lambda: ("R-NEXT", "room_preferences") in pms.screen, timeout=15, what="her alerts")
    finally:
        rt.stop()
    assert not [k for k in pms.screen if k[0] == "R-OTHER"]  # another guest's wait for the schedule
