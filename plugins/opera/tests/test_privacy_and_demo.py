"""No PII or secret in INFO logs; the demo source and the simulator as `crmbridge demo` uses them."""

from __future__ import annotations

import logging
import re

from crmbridge_opera.adapter import check
from crmbridge_opera.config import OperaConfig
from rich.console import Console

from crmbridge.adapters.base import SourceContext
from crmbridge.cli.demo import run_demo
from crmbridge.engine.sync import SyncEngine
from crmbridge.models import Alert
from crmbridge.plugins import load_plugins

from .conftest import APP_KEY, CLIENT_SECRET, sim_config, source


def _pii(sim) -> set[str]:
    values: set[str] = set()
    for prof in sim.state.profiles.values():
        det = prof["profileDetails"]
        for n in det["customer"]["personName"]:
            values |= {n["givenName"], n["surname"], n["surname"] + n["givenName"]}
        values |= {e["email"]["emailAddress"] for e in det["emails"]["emailInfo"]}
        values |= {t["telephone"]["phoneNumber"] for t in det["telephones"]["telephoneInfo"]}
    return {v for v in values if len(v) > 2}  # two-letter pinyin such as "Li" occurs in ordinary words


def test_info_logs_of_a_sync_with_faults_and_a_push_carry_no_pii_and_no_secret(sqlite_store, sim, caplog):
    store = sqlite_store
    sim.fault(429, retry_after=0, operation="getProfile")
    sim.fault(500, operation="postBulkReservationAlerts")
    sim.expire_tokens()
    ctx = source(store, sim_config(sim))
    hooks = load_plugins()
    rid = next(iter(sim.state.reservations))
    with caplog.at_level(logging.INFO):
        SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("opera"))
        sim.expire_tokens()
        hooks.push_alerts(ctx, [Alert(target="reservation", pms_source="opera", pms_id=rid, code="CRM",
                                      text="房间太热", rule="temp")])  # fmt: skip
    text = caplog.text
    assert "retrying" in text and "token" in text  # the run did log its faults
    leaked = sorted(v for v in _pii(sim) if v in text)
    assert leaked == []
    for secret in (APP_KEY, CLIENT_SECRET, *sim.tokens):
        assert secret not in text


def test_the_config_never_shows_its_secrets():
    from .conftest import make_config

    cfg = make_config(username="CRM_INTEGRATION", password="pw-Value-1")
    shown = repr(cfg) + str(cfg.model_dump())
    assert CLIENT_SECRET not in shown and APP_KEY not in shown and "pw-Value-1" not in shown


def test_crmbridge_demo_sources_offers_an_opera_source_backed_by_the_simulator(tmp_path):
    [demo] = [d for d in load_plugins().demo_sources(tmp_path) if d.type == "opera"]
    settings = OperaConfig.model_validate(demo.options)
    with demo.simulator:
        assert "token ok" in check(SourceContext(demo.name, demo.type, settings))


def test_demo_syncs_opera_and_shows_the_alerts_on_the_arrivals_screen(tmp_path):
    console = Console(record=True, width=200)
    run_demo(tmp_path / "demo", console)
    text = console.export_text()
    assert "synced opera_demo/reservations: 120 fetched, 120 new" in text
    assert "synced opera_demo/folios" in text and "(failed)" not in text
    assert "Arrivals screen in opera_demo" in text and "Returning guest: stay no." in text
    assert re.search(r"alerts created in opera_demo; pushed again: 0 sent, [1-9]\d* unchanged", text)
