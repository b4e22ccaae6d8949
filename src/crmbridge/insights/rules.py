"""What an alert rule is, and how rules (built-in and from plugins) are looked up and run."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .facts import GuestFacts, Visit

LANGUAGES = ("zh", "en")


class RuleSettings(BaseModel):
    """A rule's `[alerts.rules.NAME]` table. Subclass it to add thresholds."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    # Where a finding goes in the PMS: the arrival's reservation alert, the guest's profile
    # (a CRM note, plus the preferences the rule names), or both.
    target: Literal["reservation", "profile", "both"] = "reservation"
    # Per-language templates replacing the rule's own wording, e.g. {"en": "Stay no. {count}"}.
    wording: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A rule fired: the text the desk reads and why (evidence names facts, never PII)."""

    text: str
    evidence: list[str] = field(default_factory=list)
    # (category, code) pairs the finding asserts, written to the PMS profile as preferences
    # when the rule's target includes "profile".
    preferences: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RuleInput:
    arrival: Visit
    guest: GuestFacts
    today: date
    lang: str


class AlertRule(ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""
    settings_model: ClassVar[type[RuleSettings]] = RuleSettings
    # Default wording per language; `{placeholders}` filled by `evaluate`.
    wording: ClassVar[dict[str, str]] = {}

    @abstractmethod
    def evaluate(self, data: RuleInput, settings: Any) -> Finding | None: ...

    def say(self, settings: RuleSettings, lang: str, **fields: Any) -> str:
        template = settings.wording.get(lang) or self.wording.get(lang) or self.wording["en"]
        return template.format(**fields)


# Defence in depth for plugin rules: whatever a rule writes, these never reach the PMS.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_LONG_DIGITS = re.compile(r"\+?\d[\d\s-]{5,}\d")  # phones, ID and card numbers
_DATE = re.compile(r"\b\d{4}-\d{2}(-\d{2})?\b")


def _digits(m: re.Match[str]) -> str:
    return m.group(0) if len(re.sub(r"\D", "", m.group(0))) < 7 else "***"


def scrub(text: str, limit: int) -> str:
    """Remove e-mails and long digit runs (phones, documents) and fit the PMS's limit."""
    text = _EMAIL.sub("***", text)
    dates = [m.group(0) for m in _DATE.finditer(text)]
    text = _DATE.sub("\x00", text)  # dates are not numbers to hide
    text = _LONG_DIGITS.sub(_digits, text)
    for d in dates:
        text = text.replace("\x00", d, 1)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
