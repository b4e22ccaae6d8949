"""Logging for the long-running commands: `[logging] level` and `format` (text or JSON).

JSON lines come from python-json-logger: it is a `logging.Formatter`, so every logger
already in use (ours, uvicorn's, APScheduler's) writes JSON without touching a call site;
structlog would bring its own logger API to adopt or bridge. One object per line, with
`time`, `level`, `logger` and `message`, ready for journald, Loki or Elasticsearch."""

from __future__ import annotations

import logging
import sys

from ..config import LoggingConfig

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def json_formatter() -> logging.Formatter:
    try:
        from pythonjsonlogger.json import JsonFormatter
    except ImportError:  # python-json-logger < 3
        from pythonjsonlogger.jsonlogger import JsonFormatter  # type: ignore[no-redef]
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def configure_logging(cfg: LoggingConfig) -> None:
    """Replace the root handler; `--verbose` (DEBUG already set) wins over the config's level."""
    root = logging.getLogger()
    level = logging.DEBUG if root.level == logging.DEBUG else getattr(logging, cfg.level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if cfg.format == "json" else logging.Formatter(TEXT))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler says "Running job ..." at INFO for every tick; our own lines say more.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
