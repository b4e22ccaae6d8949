"""The Fliggy adapter's config, connection check and demo source."""

from __future__ import annotations

import pytest
from crmbridge_fliggy.adapter import FliggyConfig, check
from crmbridge_fliggy.client import InvalidSignature
from pydantic import ValidationError
from rich.console import Console

from crmbridge.adapters.base import SourceContext
from crmbridge.cli.demo import run_demo
from crmbridge.config import ConfigError, load_config

from .conftest import settings


def test_config_needs_the_pull_keys_or_the_push_keys_complete():
    with pytest.raises(ValidationError, match="app_secret, session_key missing"):
        FliggyConfig(gateway_url="https://gw.example.test/router/rest", app_key="k")
    with pytest.raises(ValidationError, match="give the TOP pull keys"):
        FliggyConfig(hotel_ids=["5001"])
    with pytest.raises(ValidationError, match="sign_method"):
        FliggyConfig(username="u", password="p", path="/push/fliggy", sign_method="sha1")
    assert FliggyConfig(username="u", password="p", path="/push/fliggy", hotel_ids=[5001]).hotel_ids == [
        "5001"
    ]


def test_secrets_in_clear_are_refused_by_the_config_loader(tmp_path, monkeypatch):
    monkeypatch.setenv("FLIGGY_APP_KEY", "23456789")
    monkeypatch.setenv("FLIGGY_APP_SECRET", "invented")
    toml = tmp_path / "crmbridge.toml"
    toml.write_text(
        '[sources.fliggy]\ntype = "fliggy"\ngateway_url = "https://gw.example.test/router/rest"\n'
        'app_key = "${env:FLIGGY_APP_KEY}"\napp_secret = "${env:FLIGGY_APP_SECRET}"\n'
        'session_key = "6100a2b3c4d5e6f7-in-clear"\n'
    )
    with pytest.raises(ConfigError, match=r"sources\.fliggy\.session_key.*\$\{env:NAME\}"):
        load_config(toml)


def test_check_calls_the_gateway_and_reports_a_bad_signature(gateway):
    ok = SourceContext("fliggy_top", "fliggy", settings(gateway))
    assert "TOP gateway answered" in check(ok)
    bad = SourceContext("fliggy_top", "fliggy", settings(gateway, app_secret="wrong"))
    with pytest.raises(InvalidSignature):
        check(bad)


def test_the_demo_pulls_invented_orders_from_its_loopback_gateway(tmp_path):
    console = Console(record=True, width=200)
    run_demo(tmp_path / "demo", console)
    assert "synced fliggy_demo/reservations: 64 fetched, 64 new" in console.export_text()
