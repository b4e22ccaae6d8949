"""Turning `[sources.NAME]` tables into adapter contexts, validated by each adapter's model."""

from __future__ import annotations

import logging

from ..adapters.base import AdapterType, SourceContext
from ..config import Config, ConfigError, SourceConfig, project_root, validate_options
from ..plugins import Hooks, UnknownAdapterType
from ..store.guest_store import GuestStore
from ..store.inbox import Inbox
from ..store.ledger import PushLedger


def build_source(
    cfg: Config, src: SourceConfig, hooks: Hooks, store: GuestStore | None = None
) -> tuple[SourceContext, AdapterType]:
    try:
        adapter = hooks.adapter_type(src.type)
    except UnknownAdapterType as exc:
        raise ConfigError(cfg.path, f"sources.{src.name}.type", str(exc)) from None
    settings = validate_options(adapter.config_model, src, cfg.path)
    ctx = SourceContext(
        name=src.name,
        type=src.type,
        settings=settings,
        log=logging.getLogger(f"crmbridge.source.{src.name}"),
        phone_region=cfg.store.phone_region,
        base_dir=project_root(cfg.path),
        timezone=cfg.timezone,
    )
    if store is not None:
        ctx.inbox = Inbox(store.engine, store.keyring, src.name)
        ctx.ledger = PushLedger(store.engine, store.keyring, src.name)
    return ctx, adapter
