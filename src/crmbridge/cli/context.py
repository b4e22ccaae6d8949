"""What every command needs: the config, the keys, the store and the plugins."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ..config import Config, ConfigError, load_config
from ..identity.keys import policy_from_config
from ..plugins import Hooks, load_plugins
from ..store.crypto import KeyError_, Keyring
from ..store.guest_store import GuestStore

# Rich lays out for 80 columns when output is not a terminal, cutting table cells with "…";
# a pipe or a file gets whole rows instead, unless $COLUMNS says otherwise.
PIPE_WIDTH = 10_000


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    piped = not stream.isatty() and not os.environ.get("COLUMNS")
    return Console(stderr=stderr, width=PIPE_WIDTH if piped else None)


err = console(stderr=True)


def fail(message: str, hint: str | None = None, code: int = 2) -> typer.Exit:
    # escape: messages quote config tables like [sources.x], which rich would eat as markup
    err.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        err.print(f"[yellow]next:[/] {escape(hint)}")
    return typer.Exit(code)


@dataclass
class App:
    config: Config
    hooks: Hooks
    store: GuestStore


def open_app(config_path: Path) -> App:
    try:
        cfg = load_config(config_path)
        keyring = Keyring.load(cfg.store.key_file)
    except ConfigError as exc:
        raise fail(str(exc), "fix the file, then run `crmbridge check`") from None
    except KeyError_ as exc:
        raise fail(str(exc)) from None
    try:
        store = GuestStore.open(
            cfg.store.url,
            keyring,
            policy_from_config(cfg.identity, cfg.store.match_on_documents),
            cfg.store.phone_region,
            key_store_url=cfg.store.key_store,
        )
    except KeyError_ as exc:
        raise fail(str(exc), "start again with the right key; nothing was written") from None
    except Exception as exc:  # connection refused, bad URL, permissions
        raise fail(
            f"cannot open the store at {redact_url(cfg.store.url)}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            "check [store] url in the config and that the database is reachable",
        ) from None
    return App(cfg, load_plugins(), store)


def redact_url(url: str) -> str:
    # postgresql://user:secret@host/db -> postgresql://user:***@host/db
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        if ":" in cred:
            cred = cred.split(":", 1)[0] + ":***"
        return f"{scheme}://{cred}@{host}"
    return url


def is_tty() -> bool:
    return sys.stdout.isatty()
