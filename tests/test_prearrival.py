"""The pre-arrival job end to end through the hooks: plan, push, re-run, retire, re-word."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import select

from crmbridge.adapters.base import AdapterConfig, AdapterType, Batch, PushResult, SourceContext
from crmbridge.adapters.file import FileConfig
from crmbridge.config import Config, SourceConfig, StoreConfig
from crmbridge.engine import scheduler
from crmbridge.engine.sources import build_source
from crmbridge.engine.sync import SyncEngine
from crmbridge.hookspecs import hookimpl
from crmbridge.insights import prearrival
from crmbridge.insights.config import AlertsConfig, SegmentsConfig
from crmbridge.insights.prearrival import run_prearrival
from crmbridge.insights.rules import AlertRule, Finding, RuleInput, RuleSettings
from crmbridge.models import Feedback, Reservation, Stay
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import feedback

from .factories import reservation

TODAY = date(2026, 11, 23)


class MemoryPms:
    """A PMS whose arrivals screen is a dict: (reservation id, rule) -> text."""

    class Config(AdapterConfig):
        pass

    def __init__(self) -> None:
        self.reservations: list[Reservation] = []
        self.screen: dict[tuple[str, str], str] = {}
        self.calls = 0

    @hookimpl
    def crmbridge_adapter_types(self):
        return [
            AdapterType(
                "memory-pms", self.Config, {"reservations", "push_alerts"},
                fetch={"reservations": self.fetch_reservations}, push_alerts=self.push_alerts,
            )
        ]  # fmt: skip

    def fetch_reservations(self, source, cursor, full) -> Iterator[Batch[Reservation]]:
        return iter([Batch(list(self.reservations), None)])

    def push_alerts(self, source, alerts) -> list[PushResult]:
        self.calls += 1
        out = []
        for a in alerts:
            key = (a.pms_id, a.rule)
            if a.action == "retire":
                self.screen.pop(key, None)
                source.ledger.retire(a.target, a.pms_id, a.rule)
                out.append(PushResult(a.pms_id, a.rule, "retired"))
                continue
            status = "replaced" if key in self.screen else "created"
            self.screen[key] = a.text
            source.ledger.record(a, "sent", external_id=f"ALERT-{len(self.screen)}")
            out.append(PushResult(a.pms_id, a.rule, status))
        return out


def guest(**over: Any) -> dict[str, Any]:
    g = {
        "source_id": "P-7001",
        "local_name": "王芳",
        "given_name": "Fang",
        "surname": "Wang",
        "birth_date": "1991-11-26",
        "emails": [{"address": "wang.fang.test@example.cn"}],
        "phones": [{"number": "+86 139 0013 9000"}],
        "preferences": [{"category": "PILLOW", "code": "BUCKWHEAT"}],
        "updated_at": "2026-11-20T10:00:00+08:00",
    }
    g.update(over)
    return g


def setup_store(store, tmp_path: Path, lang: str = "en") -> tuple[MemoryPms, Config, Any]:
    pms = MemoryPms()
    pms.reservations = [
        reservation("R-OLD", source="pms", status="checked_out", arrival="2026-06-02",
                    departure="2026-06-04", special_requests=[], guest=guest()),
        reservation("R-NEXT", source="pms", arrival="2026-11-25", departure="2026-11-28",
                    special_requests=[], guest=guest()),
        reservation("R-OTHER", source="pms", arrival="2026-11-24", departure="2026-11-25",
                    special_requests=[], guest={"source_id": "P-7002", "local_name": "陈静",
                    "given_name": "Jing", "surname": "Chen", "emails": [], "phones": [],
                    "birth_date": None, "documents": []}),
    ]  # fmt: skip
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        "source_id,received_at,rating,category,text,reservation_source,reservation_id\n"
        "FB-1,2026-06-05T09:00:00+08:00,1,noise,空调噪音太大,pms,R-OLD\n",
        encoding="utf-8",
    )
    cfg = Config(
        path=tmp_path / "config" / "crmbridge.toml",
        store=StoreConfig(),
        sources={
            "pms": SourceConfig("pms", "memory-pms", None, {}),
            "survey": SourceConfig("survey", "feedback-file", None, {"path": str(feedback)}),
        },
        alerts=AlertsConfig(language=lang),
        segments=SegmentsConfig(),
    )
    hooks = load_plugins(extra=[pms])
    engine = SyncEngine(store, hooks)
    for name in ("pms", "survey"):
        ctx, adapter = build_source(cfg, cfg.sources[name], hooks, store)
        for r in engine.sync_source(ctx, adapter):
            assert r.status == "ok", r.error
    return pms, cfg, hooks


def push(cfg: Config, hooks: Any, store) -> dict[str, Any]:
    [(_, _, summary)] = run_prearrival(cfg, hooks, store, today=TODAY)
    return summary.as_dict()


def test_arrivals_get_their_alerts_and_a_rerun_pushes_nothing(store, tmp_path):
    pms, cfg, hooks = setup_store(store, tmp_path)
    first = push(cfg, hooks, store)
    assert pms.screen[("R-NEXT", "room_preferences")] == "Room preferences: buckwheat pillow"
    assert pms.screen[("R-NEXT", "celebration")] == "Birthday on 26 Nov, during the stay"
    assert pms.screen[("R-NEXT", "complaint")].startswith("Recent complaint/low rating (2026-06, noise)")
    assert pms.screen[("R-NEXT", "returning")] == "Returning guest: stay no. 2 (last 2026-06)"
    assert pms.screen[("R-OTHER", "returning")] == "First stay"
    assert first["arrivals"] == 2 and first["created"] == len(pms.screen)
    calls = pms.calls
    second = push(cfg, hooks, store)
    assert pms.calls == calls  # nothing new: the PMS is not even called
    assert (second["created"], second["replaced"], second["unchanged"]) == (0, 0, len(pms.screen))


def test_removing_a_preference_retires_its_alert(store, tmp_path):
    pms, cfg, hooks = setup_store(store, tmp_path)
    push(cfg, hooks, store)
    newer = guest(preferences=[], updated_at="2026-11-22T10:00:00+08:00")
    pms.reservations = [reservation("R-NEXT", source="pms", arrival="2026-11-25", departure="2026-11-28",
                                    special_requests=[], guest=newer,
                                    updated_at="2026-11-22T10:00:00+08:00")]  # fmt: skip
    ctx, adapter = build_source(cfg, cfg.sources["pms"], hooks, store)
    SyncEngine(store, hooks).sync_source(ctx, adapter)
    summary = push(cfg, hooks, store)
    assert summary["retired"] == 1 and ("R-NEXT", "room_preferences") not in pms.screen
    assert ("R-NEXT", "celebration") in pms.screen


def test_changing_the_hotel_language_rewords_every_alert(store, tmp_path):
    pms, cfg, hooks = setup_store(store, tmp_path)
    push(cfg, hooks, store)
    cfg.alerts = AlertsConfig(language="zh")
    summary = push(cfg, hooks, store)
    assert summary["replaced"] == len(pms.screen) and summary["created"] == 0
    assert pms.screen[("R-NEXT", "room_preferences")] == "客房偏好：荞麦枕"
    assert pms.screen[("R-OTHER", "returning")] == "首次入住"


def test_feedback_lands_encrypted_and_linked_to_its_reservation(store, tmp_path):
    setup_store(store, tmp_path)
    with store.engine.connect() as c:
        row = c.execute(select(feedback)).one()
    assert (row.rating, row.category, row.reservation_source_id) == (1, "noise", "R-OLD")
    assert "空调".encode() not in bytes(row.text_ct)


def test_feedback_file_answers_the_fetch_feedback_hook_and_quarantines_a_bad_rating(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text(
        "source_id,received_at,rating,category,text,stay_id\n"
        "RV-1,2026-10-02T20:15:00+08:00,5,praise,早餐很好,S-88\n"
        "RV-2,2026-10-03T08:00:00+08:00,9,complaint,房间有异味,S-89\n",
        encoding="utf-8",
    )
    hooks = load_plugins()
    ctx = SourceContext("reviews", "feedback-file", FileConfig(path=str(path)))
    batches = list(hooks.fetch("feedback", ctx, None, False))
    records = [r for b in batches for r in b.records]
    rejects = [r for b in batches for r in b.rejects]
    assert [(r.source_id, r.rating, r.stay_source_id) for r in records] == [("RV-1", 5, "S-88")]
    assert [r.source_id for r in rejects] == ["RV-2"] and "rating" in rejects[0].reason
    assert "异味" not in rejects[0].reason


class TeaRule(AlertRule):
    name = "tea"
    description = "The guest's tea, from a vendor plugin"
    wording: ClassVar[dict[str, str]] = {"zh": "茶：{tea}", "en": "Tea: {tea}"}

    def evaluate(self, data: RuleInput, settings: RuleSettings) -> Finding | None:
        teas = [p.code for p in data.guest.preferences if p.category == "TEA"]
        return (
            Finding(self.say(settings, data.lang, tea=teas[0].lower()), ["TEA preference"]) if teas else None
        )


class BrokenRule(AlertRule):
    name = "broken"

    def evaluate(self, data: RuleInput, settings: RuleSettings) -> Finding | None:
        raise RuntimeError("vendor bug")


class TeaPlugin:
    @hookimpl
    def crmbridge_register_alert_rules(self):
        return [TeaRule(), BrokenRule()]


def test_plugin_rules_run_beside_the_builtin_ones_and_a_failing_one_is_skipped(store, tmp_path):
    pms, cfg, _ = setup_store(store, tmp_path)
    hooks = load_plugins(extra=[pms, TeaPlugin()])
    pms.reservations = [
        reservation("R-TEA", source="pms", arrival="2026-11-24", departure="2026-11-26", special_requests=[],
                    guest=guest(source_id="P-7003", emails=[], phones=[], birth_date=None,
                                preferences=[{"category": "TEA", "code": "LONGJING"}]))
    ]  # fmt: skip
    ctx, adapter = build_source(cfg, cfg.sources["pms"], hooks, store)
    SyncEngine(store, hooks).sync_source(ctx, adapter)
    [(_, plans, _)] = run_prearrival(cfg, hooks, store, today=TODAY, push=False)
    [tea] = [p for p in plans if p.arrival.source_id == "R-TEA"]
    assert [a.alert.text for a in tea.alerts if a.rule == "tea"] == ["Tea: longjing"]
    assert tea.errors == ["broken: RuntimeError"] and any(a.rule == "returning" for a in tea.alerts)


class _App:
    def __init__(self, config: Config, hooks: Any, store: Any) -> None:
        self.config, self.hooks, self.store = config, hooks, store


def test_scheduled_alert_job_pushes_the_coming_arrivals(store, tmp_path, monkeypatch):
    pms, cfg, hooks = setup_store(store, tmp_path)
    monkeypatch.setattr(prearrival, "hotel_today", lambda _cfg: TODAY)
    scheduler._push_alerts(_App(cfg, hooks, store))
    assert pms.screen[("R-NEXT", "returning")] == "Returning guest: stay no. 2 (last 2026-06)"


def test_a_failing_alert_job_is_logged_and_does_not_stop_the_scheduler(store, tmp_path, caplog):
    pms, cfg, hooks = setup_store(store, tmp_path)
    cfg.alerts = AlertsConfig(rules={"birthdays": {"enabled": True}})
    scheduler._push_alerts(_App(cfg, hooks, store))  # must not raise
    assert "pre-arrival alert job failed" in caplog.text and pms.screen == {}


def test_a_failing_rule_logs_its_type_not_its_message(store, tmp_path, caplog):
    pms, cfg, _ = setup_store(store, tmp_path)
    hooks = load_plugins(extra=[pms, TeaPlugin()])
    run_prearrival(cfg, hooks, store, today=TODAY, push=False)
    assert "broken failed on pms/R-NEXT: RuntimeError" in caplog.text and "vendor bug" not in caplog.text


def test_feedback_named_by_its_stay_is_linked_to_that_stays_reservation(store):
    stay = Stay(source="pms", source_id="S-88", reservation_source_id="R-OLD", hotel_code="SHA01",
                room_number="1808")  # fmt: skip
    review = Feedback(source="survey", source_id="FB-9", rating=2, category="noise",
                      reservation_source="pms", stay_source_id="S-88")  # fmt: skip
    with store.transaction() as w:
        w.upsert_stays([stay])
        w.upsert_feedback([review])
    with store.engine.connect() as c:
        assert c.execute(select(feedback.c.reservation_source_id)).scalar_one() == "R-OLD"
