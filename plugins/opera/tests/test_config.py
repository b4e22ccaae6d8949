"""An `opera` source in crmbridge.toml: the issue's keys, secrets only by reference."""

from __future__ import annotations

import textwrap

import pytest
from crmbridge_opera.config import OperaConfig
from pydantic import ValidationError

from crmbridge.config import ConfigError, load_config
from crmbridge.engine.sources import build_source
from crmbridge.plugins import load_plugins

from .conftest import APP_KEY, CLIENT_SECRET, make_config

TABLE = """
    [sources.opera]
    type = "opera"
    gateway_url = "https://ohip.example.test"
    app_key = "${env:OPERA_APP_KEY}"
    client_id = "crmbridge"
    client_secret = "%s"
    hotel_id = "SHA01"
    external_system = "CRMBRIDGE"
"""


def _write(tmp_path, secret: str):
    path = tmp_path / "crmbridge.toml"
    path.write_text(textwrap.dedent(TABLE % secret), encoding="utf-8")
    return path


def test_config_model_holds_exactly_the_issues_keys():
    assert set(OperaConfig.model_fields) == {
        "gateway_url", "app_key", "client_id", "client_secret", "hotel_id", "external_system",
        "enterprise_id", "username", "password", "backfill_days", "lookahead_days", "page_size",
        "alert_code", "alert_area", "timeout_s", "max_attempts", "max_requests_per_second", "timezone",
    }  # fmt: skip


def test_a_literal_client_secret_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("OPERA_APP_KEY", APP_KEY)
    with pytest.raises(ConfigError, match=r"sources.opera.client_secret.*written in clear"):
        load_config(_write(tmp_path, "hunter2"))


def test_secrets_by_reference_resolve_into_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("OPERA_APP_KEY", APP_KEY)
    monkeypatch.setenv("OPERA_CLIENT_SECRET", CLIENT_SECRET)
    cfg = load_config(_write(tmp_path, "${env:OPERA_CLIENT_SECRET}"))
    ctx, adapter = build_source(cfg, cfg.sources["opera"], load_plugins())
    assert adapter.name == "opera" and "push_alerts" in adapter.capabilities
    assert ctx.settings.client_secret.get_secret_value() == CLIENT_SECRET
    assert (ctx.settings.backfill_days, ctx.settings.lookahead_days, ctx.settings.alert_area) == (
        30,
        14,
        "CheckIn",
    )


def test_unknown_keys_and_half_a_password_grant_are_errors():
    with pytest.raises(ValidationError, match="hotel_code"):
        make_config(hotel_code="SHA01")
    with pytest.raises(ValidationError, match="both `username` and `password`"):
        make_config(username="CRM_INTEGRATION")
