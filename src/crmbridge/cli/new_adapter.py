"""`crmbridge new-adapter NAME`: write a new adapter plugin from the built-in template."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..scaffold import ScaffoldError, render

out = Console()


def new_adapter(
    name: Annotated[str, typer.Argument(help="the adapter type name, e.g. acme_pms")],
    directory: Annotated[
        Path | None, typer.Option("--directory", "-d", help="where to write it (default ./crmbridge-NAME)")
    ] = None,
) -> None:
    """Write a new adapter plugin: config, client, mapping, adapter, simulator, tests."""
    target = directory or Path.cwd() / ("crmbridge-" + name.replace("_", "-"))
    try:
        written = render(name, target)
    except ScaffoldError as exc:
        out.print(f"error: {exc}", markup=False, highlight=False, style="red")
        raise typer.Exit(2) from None
    say = [
        f"wrote {len(written)} files to {target}",
        "next:",
        f"  pip install -e '{target}[testing]'",
        f"  cd {target} && python -m pytest    # its tests and crmbridge's conformance suite",
        f"  crmbridge plugins    # lists {name}",
    ]
    for line in say:
        out.print(line, markup=False, highlight=False)
