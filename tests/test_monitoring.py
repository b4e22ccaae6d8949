"""What operators watch: /metrics in Prometheus' own format, /healthz with each scheduled
source's freshness (503 once one misses its schedule), and JSON log lines."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crmbridge.cli.logs import configure_logging
from crmbridge.config import LoggingConfig, ReceiverConfig, Schedule, load_config
from crmbridge.engine.sources import build_source
from crmbridge.engine.sync import SyncEngine
from crmbridge.insights.prearrival import PushSummary
from crmbridge.monitor.health import freshness, next_due
from crmbridge.monitor.metrics import ALERT_LAG, ALERT_PUSHES, count_pushes
from crmbridge.plugins import load_plugins
from crmbridge.receiver import Receiver
from crmbridge.synthetic import generate_rows, write_csv


def _config(tmp_path: Path, db_url: str, every: str = "1h") -> Path:
    write_csv(tmp_path / "imports" / "export.csv", generate_rows(12, seed=3))
    path = tmp_path / "crmbridge.toml"
    path.write_text(
        f'timezone = "Asia/Shanghai"\n[store]\nurl = "{db_url}"\n\n'
        f'[sources.legacy_pms]\ntype = "file"\npath = "{tmp_path / "imports" / "export.csv"}"\n'
        f'hotel_code = "SHA01"\nschedule = {{ every = "{every}" }}\n'
        '\n[sources.ctrip]\ntype = "ctrip"\nhotel_code = "SHA01"\nrequestor_id = "c"\n'
        'message_password = "${env:CTRIP_PW_TEST}"\n',
        encoding="utf-8",
    )
    return path


def _sync(cfg, store, name: str = "legacy_pms") -> None:
    hooks = load_plugins()
    ctx, adapter = build_source(cfg, cfg.sources[name], hooks, store)
    [result] = SyncEngine(store, hooks).sync_source(ctx, adapter)
    assert result.status == "ok"


def _families(url: str) -> dict[str, dict[tuple, float]]:
    resp = httpx.get(url + "/metrics", timeout=10)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(resp.text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def test_metrics_parse_with_prometheus_clients_own_parser_and_say_what_happened(
    tmp_path, db_url, store, monkeypatch
):
    monkeypatch.setenv("CTRIP_PW_TEST", "pw")
    cfg = load_config(_config(tmp_path, db_url))
    before = time.time()
    _sync(cfg, store)
    store.inbox("ctrip").put([("ctrip.order", "CT1|order", "<x/>"), ("ctrip.order", "CT2|order", "<y/>")])
    count_pushes(PushSummary("opera_pms", created=3, failed=1))
    ALERT_LAG.labels("opera_pms").observe(0.4)
    with Receiver(store, load_plugins(), [], ReceiverConfig(port=0), config=cfg) as r:
        m = _families(r.url)
    key = (("source", "legacy_pms"), ("stream", "reservations"))
    assert m["crmbridge_records_fetched_total"][key] == 12
    assert m["crmbridge_records_written_total"][key] == 12
    assert m["crmbridge_records_quarantined_total"][key] == 0
    assert m["crmbridge_sync_errors_total"][key] == 0
    assert before - 1 <= m["crmbridge_source_last_success_timestamp_seconds"][key] <= time.time() + 1
    assert 0 <= m["crmbridge_source_last_run_duration_seconds"][key] < 60
    assert m["crmbridge_inbox_pending"][(("source", "ctrip"),)] == 2
    assert 0 <= m["crmbridge_inbox_oldest_pending_age_seconds"][(("source", "ctrip"),)] < 60
    pushed = m["crmbridge_alert_push_results_total"]
    assert pushed[(("pms_source", "opera_pms"), ("result", "created"))] >= 3
    assert m["crmbridge_alert_lag_seconds_count"][(("pms_source", "opera_pms"),)] >= 1
    assert m["crmbridge_alert_lag_seconds_bucket"][(("le", "0.5"), ("pms_source", "opera_pms"))] >= 1
    ALERT_PUSHES.clear()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_healthz_turns_unhealthy_when_a_source_misses_its_schedule(tmp_path, db_url, store, monkeypatch):
    monkeypatch.setenv("CTRIP_PW_TEST", "pw")
    cfg = load_config(_config(tmp_path, db_url, every="2s"))
    _sync(cfg, store)
    with Receiver(store, load_plugins(), [], ReceiverConfig(port=0, health_grace_s=0.5), config=cfg) as r:
        fresh = httpx.get(r.url + "/healthz", timeout=10)
        assert fresh.status_code == 200, fresh.text
        doc = fresh.json()
        assert doc["status"] == "ok" and doc["sources"]["legacy_pms"]["fresh"] is True
        time.sleep(3.0)  # the 2 s schedule passes, plus the grace, with no run
        stale = httpx.get(r.url + "/healthz", timeout=10)
        _sync(cfg, store)  # the source runs again: healthy again
        again = httpx.get(r.url + "/healthz", timeout=10)
    assert stale.status_code == 503
    assert stale.json()["status"] == "unhealthy" and stale.json()["stale"] == ["legacy_pms"]
    assert stale.json()["sources"]["legacy_pms"]["fresh"] is False
    assert again.status_code == 200


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_source_that_never_succeeded_is_stale_once_its_first_run_is_overdue(
    tmp_path, db_url, store, monkeypatch
):
    monkeypatch.setenv("CTRIP_PW_TEST", "pw")
    cfg = load_config(_config(tmp_path, db_url))
    started = datetime.now(UTC) - timedelta(minutes=20)
    with store.engine.connect() as conn:
        [f] = freshness(conn, cfg, datetime.now(UTC), started, grace_s=600)
        [g] = freshness(conn, cfg, started + timedelta(minutes=5), started, grace_s=600)
    assert (f.source, f.fresh, f.last_success, g.fresh) == ("legacy_pms", False, None, True)


def test_a_cron_schedule_is_due_at_its_next_tick_in_hotel_time():
    after = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 06:30 in Shanghai
    due = next_due(Schedule(cron="0 6,14 * * *"), "Asia/Shanghai", after)
    assert due.astimezone(UTC) == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 14:00 Shanghai


def test_json_logs_are_one_object_per_line_with_level_logger_and_message(capsys):
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging(LoggingConfig(format="json", level="INFO"))
        logging.getLogger("crmbridge.engine.scheduler").info("legacy_pms/reservations ok: %s", "fetched=12")
        logging.getLogger("crmbridge.test").debug("not shown at INFO")
    finally:
        root.handlers[:], root.level = saved
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.strip()]
    [doc] = lines
    assert doc["level"] == "INFO" and doc["logger"] == "crmbridge.engine.scheduler"
    assert doc["message"] == "legacy_pms/reservations ok: fetched=12" and "time" in doc
