"""`crmbridge new-adapter NAME`: a new adapter as an installable plugin distribution.

The template is a folder of files with ``$$placeholders`` (``string.Template``) shipped in
this package: the only substitutions are names, so a template engine (jinja2, copier) would
be a dependency for nothing; and a template that lives in crmbridge moves with the plugin API
it is written against, so a generated project always matches the installed crmbridge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from ..hookspecs import PLUGIN_API_VERSION

NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
# The crmbridge releases that carry plugin API 1.x (see docs/plugins.md, "Versioning").
CORE_REQUIREMENT = "crmbridge>=0.2,<0.3"


class ScaffoldError(ValueError):
    pass


@dataclass(frozen=True)
class Names:
    name: str  # the adapter type and entry-point name: acme_pms

    @property
    def values(self) -> dict[str, str]:
        words = self.name.split("_")
        return {
            "name": self.name,
            "package": f"crmbridge_{self.name}",
            "dist": "crmbridge-" + self.name.replace("_", "-"),
            "title": " ".join(w.upper() if len(w) <= 3 else w.capitalize() for w in words),
            "class_prefix": "".join(w.capitalize() for w in words),
            "upper": self.name.upper(),
            "api_version": PLUGIN_API_VERSION,
            "core_req": CORE_REQUIREMENT,
        }


def _walk(node: Traversable, rel: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        path = f"{rel}/{child.name}" if rel else child.name
        if child.is_dir():
            out += _walk(child, path)
        elif child.name.endswith(".tmpl"):
            out.append((path.removesuffix(".tmpl"), child))
    return out


def render(name: str, target: Path) -> list[Path]:
    """Write the new distribution under `target` (which must not exist or be empty)."""
    if not NAME.match(name):
        raise ScaffoldError(
            f"{name!r} cannot be an adapter type name: use lower case letters, digits and _ "
            "(2 to 41 characters, starting with a letter), e.g. acme_pms"
        )
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty: choose another --directory")
    values = Names(name).values
    written = []
    for rel, src in _walk(files(__package__) / "adapter"):
        rel = rel.replace("src/package", f"src/{values['package']}")
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(Template(src.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
        written.append(dest)
    return written
