"""What `check` and `run` verify before anything runs: everything `run` will build.

`load_config` already refuses a bad time zone, cron expression or interval; what needs the
installed plugins (alert rules and their settings, where alerts go, each scheduled source's
adapter options) is checked here, so `check` says it with exit 2 instead of `run` dying."""

from __future__ import annotations

from typing import Any

from ..config import ConfigError
from ..engine.sources import build_source
from ..insights.config import AlertsConfig
from ..insights.prearrival import RuleConfigError, enabled_rules, pms_sources


def preflight(app: Any) -> None:
    """Raise ConfigError (file, table, key) for the first thing `run` could not start."""
    cfg, hooks = app.config, app.hooks
    alerts = cfg.alerts or AlertsConfig()
    try:
        enabled_rules(hooks, alerts)
        pms_sources(cfg, hooks)  # push_to names only configured sources
    except RuleConfigError as exc:
        raise ConfigError(cfg.path, "", str(exc)) from None
    types = hooks.adapter_types()
    for name in alerts.push_to:
        stype = cfg.sources[name].type
        if stype in types and "push_alerts" not in types[stype].capabilities:
            raise ConfigError(
                cfg.path, "alerts.push_to", f"source {name} ({stype}) cannot take alerts; name a PMS source"
            )
    for src in cfg.sources.values():
        if src.schedule is not None:
            build_source(cfg, src, hooks, app.store)  # unknown type, bad options: ConfigError
