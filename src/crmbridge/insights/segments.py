"""Segmentation: recency/frequency/monetary scores, value tier, guest type, channel mix, loyalty.

Scores use fixed, configurable thresholds rather than quantiles of the current store, so a
guest's tier does not move because other guests arrived, and the desk can be told what "A"
means. Defaults suit a full-service city hotel in China; see README, "Segments".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from .facts import GuestFacts, Visit

# Loyalty tiers in ascending order; a guest's highest one across programmes is kept.
TIER_ORDER = ("MEMBER", "SILVER", "GOLD", "PLATINUM", "TITANIUM", "BLACK", "RED", "AMBASSADOR", "DIAMOND")


class SegmentsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Score 5 down to 2 for the first threshold the value meets; 1 otherwise.
    recency_days: list[int] = Field(default=[90, 180, 365, 730], min_length=4, max_length=4)
    frequency_stays: list[int] = Field(default=[10, 5, 3, 2], min_length=4, max_length=4)
    monetary: list[Decimal] = Field(
        default=[Decimal(20000), Decimal(8000), Decimal(3000), Decimal(1000)], min_length=4, max_length=4
    )
    tier_a: int = 12  # r + f + m at or above: tier A
    tier_b: int = 8
    corporate_rates: list[str] = Field(default=["CORP", "COR", "NEG", "LNR", "GOV"])
    business_weekday_share: float = 0.7


@dataclass
class Segment:
    stays: int
    last_stay: date | None
    recency: int
    frequency: int
    monetary: int
    value_tier: str
    guest_type: str
    channel_mix: dict[str, int] = field(default_factory=dict)
    loyalty_tier: str | None = None
    revenue: Decimal = Decimal(0)
    tags: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return self.recency + self.frequency + self.monetary

    def as_dict(self) -> dict[str, object]:
        return {
            "stays": self.stays,
            "last_stay": self.last_stay.isoformat() if self.last_stay else None,
            "rfm": [self.recency, self.frequency, self.monetary],
            "value_tier": self.value_tier,
            "guest_type": self.guest_type,
            "channel_mix": self.channel_mix,
            "loyalty_tier": self.loyalty_tier,
            "revenue": str(self.revenue),
            "tags": self.tags,
        }


def _score_le(value: float, thresholds: list[int]) -> int:
    for i, t in enumerate(thresholds):
        if value <= t:
            return 5 - i
    return 1


def _score_ge(value: Decimal | int, thresholds: list[Decimal] | list[int]) -> int:
    for i, t in enumerate(thresholds):
        if value >= t:
            return 5 - i
    return 1


def _weekday_share(visits: list[Visit]) -> float:
    nights = weekday = 0
    for v in visits:
        for n in range(v.nights):
            nights += 1
            weekday += date.fromordinal(v.arrival.toordinal() + n).weekday() < 4  # Mon–Thu nights
    return weekday / nights if nights else 0.0


def guest_type(visits: list[Visit], cfg: SegmentsConfig) -> str:
    if not visits:
        return "unknown"
    if any(v.children > 0 for v in visits):
        return "family"
    corporate = tuple(r.upper() for r in cfg.corporate_rates)
    corp = sum(1 for v in visits if v.rate_code and v.rate_code.upper().startswith(corporate))
    solo = all(v.adults <= 1 for v in visits)
    if corp * 2 >= len(visits) or (solo and _weekday_share(visits) >= cfg.business_weekday_share):
        return "business"
    return "leisure"


def loyalty_tier(guest: GuestFacts) -> str | None:
    best: tuple[int, str] | None = None
    for m in guest.attributes("memberships"):
        tier = str(m.get("tier") or "").upper()
        if not tier:
            continue
        rank = TIER_ORDER.index(tier) if tier in TIER_ORDER else 0
        if best is None or rank > best[0]:
            best = (rank, tier)
    return best[1] if best else None


def segment(guest: GuestFacts, today: date, cfg: SegmentsConfig) -> Segment:
    past = guest.past_stays(today)
    last = past[-1].departure if past else None
    revenue = sum((v.total or Decimal(0) for v in past), Decimal(0))
    recency = _score_le((today - last).days, cfg.recency_days) if last else 1
    frequency = _score_ge(len(past), cfg.frequency_stays)
    monetary = _score_ge(revenue, cfg.monetary)
    score = recency + frequency + monetary
    tier = "A" if score >= cfg.tier_a else "B" if score >= cfg.tier_b else "C"
    live = [v for v in guest.visits if v.status not in ("cancelled", "no_show")]
    unique = list({v.stay_key: v for v in live}.values())
    mix = Counter((v.channel or "direct").lower() for v in live)
    seg = Segment(
        stays=len(past),
        last_stay=last,
        recency=recency,
        frequency=frequency,
        monetary=monetary,
        value_tier=tier,
        guest_type=guest_type(unique, cfg),
        channel_mix=dict(sorted(mix.items())),
        loyalty_tier=loyalty_tier(guest),
        revenue=revenue,
    )
    history = "repeat" if len(past) >= 2 else "one-time" if past else "no-stay-yet"
    seg.tags = [f"value:{tier}", f"type:{seg.guest_type}", history]
    if seg.loyalty_tier:
        seg.tags.append(f"loyalty:{seg.loyalty_tier}")
    if mix:
        seg.tags.append(f"channel:{mix.most_common(1)[0][0]}")
    return seg
