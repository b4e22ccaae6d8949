"""The built-in alert rules, registered through the same hook a plugin uses.

Each rule reads the unified profile and history (`GuestFacts`) and the arrival, and returns
one short line for the PMS, or nothing. Settings and wording come from `[alerts.rules.NAME]`.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import ClassVar

from pydantic import Field

from ..hookspecs import hookimpl
from .facts import PreferenceFact, Visit
from .rules import AlertRule, Finding, RuleInput, RuleSettings

# Codes the desk recognises, in both languages. Unknown codes are shown as they are.
LABELS: dict[str, tuple[str, str]] = {
    "VEGETARIAN": ("素食", "vegetarian"),
    "VEGAN": ("纯素", "vegan"),
    "HALAL": ("清真", "halal"),
    "KOSHER": ("犹太洁食", "kosher"),
    "GLUTEN_FREE": ("无麸质", "gluten-free"),
    "LACTOSE_FREE": ("无乳糖", "lactose-free"),
    "NO_PORK": ("不吃猪肉", "no pork"),
    "NO_SPICY": ("不吃辣", "no spicy food"),
    "NUTS": ("坚果", "nuts"),
    "PEANUT": ("花生", "peanuts"),
    "SEAFOOD": ("海鲜", "seafood"),
    "SHELLFISH": ("贝类", "shellfish"),
    "HIGH_FLOOR": ("高楼层", "high floor"),
    "LOW_FLOOR": ("低楼层", "low floor"),
    "QUIET": ("安静房", "quiet room"),
    "AWAY_FROM_ELEVATOR": ("远离电梯", "away from lift"),
    "KING": ("大床", "king bed"),
    "TWIN": ("双床", "twin beds"),
    "BUCKWHEAT": ("荞麦枕", "buckwheat pillow"),
    "FEATHER": ("羽绒枕", "feather pillow"),
    "FIRM": ("硬枕", "firm pillow"),
    "SOFT": ("软枕", "soft pillow"),
    "NONSMOKING": ("无烟房", "non-smoking"),
    "NON_SMOKING": ("无烟房", "non-smoking"),
    "SMOKING": ("吸烟房", "smoking room"),
    "COOL": ("室温偏低", "cool room"),
    "WARM": ("室温偏高", "warm room"),
    "CITY_VIEW": ("城景", "city view"),
    "RIVER_VIEW": ("江景", "river view"),
}


def label(code: str, lang: str) -> str:
    zh, en = LABELS.get(code.upper(), (code, code.lower().replace("_", " ")))
    return zh if lang == "zh" else en


def _join(lang: str, items: Iterable[str]) -> str:
    return ("、" if lang == "zh" else ", ").join(dict.fromkeys(items))


def _md(d: date, lang: str) -> str:
    return f"{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b").lstrip("0")


def _in_stay(month_day: tuple[int, int], arrival: Visit) -> date | None:
    """The day in [arrival, departure] falling on month/day (29 Feb counts as 28 Feb)."""
    for year in range(arrival.arrival.year, arrival.departure.year + 1):
        m, d = month_day
        try:
            day = date(year, m, d)
        except ValueError:
            day = date(year, 2, 28)
        if arrival.arrival <= day <= arrival.departure:
            return day
    return None


class DietarySettings(RuleSettings):
    categories: list[str] = Field(default=["DIET", "DIETARY", "FOOD", "DINING"])
    allergy_categories: list[str] = Field(default=["ALLERGY", "ALLERGIES"])
    # Words in special requests that mean a dietary need; mapped to a code above.
    keywords: dict[str, str] = Field(
        default={
            "素食": "VEGETARIAN", "吃素": "VEGETARIAN", "vegetarian": "VEGETARIAN", "vegan": "VEGAN",
            "清真": "HALAL", "halal": "HALAL", "无麸质": "GLUTEN_FREE", "gluten": "GLUTEN_FREE",
            "不吃猪肉": "NO_PORK", "no pork": "NO_PORK", "不吃辣": "NO_SPICY",
        }
    )  # fmt: skip
    allergy_keywords: dict[str, str] = Field(
        default={
            "花生过敏": "PEANUT", "peanut": "PEANUT", "坚果过敏": "NUTS", "nut allerg": "NUTS",
            "海鲜过敏": "SEAFOOD", "seafood allerg": "SEAFOOD", "shellfish": "SHELLFISH",
        }
    )  # fmt: skip
    min_confidence: float = 0.6  # for inferred preferences (e.g. from POS history)


class Dietary(AlertRule):
    name = "dietary"
    description = "Dietary needs and allergies from preferences, special requests and POS history"
    settings_model = DietarySettings
    # Health is worded minimally: what to avoid, and to confirm with the guest; no history.
    wording: ClassVar[dict[str, str]] = {
        "zh": "餐饮：{diet}{sep}{allergy}",
        "en": "Dining: {diet}{sep}{allergy}",
    }

    def evaluate(self, data: RuleInput, settings: DietarySettings) -> Finding | None:
        diet: list[str] = []
        allergy: list[str] = []
        evidence: list[str] = []

        def take(p: PreferenceFact) -> None:
            if p.confidence is not None and p.confidence < settings.min_confidence:
                return
            if p.category in settings.allergy_categories:
                allergy.append(p.code)
            elif p.category in settings.categories:
                diet.append(p.code)
            else:
                return
            evidence.append(f"preference {p.category}:{p.code} from {p.source}")

        for p in data.guest.preferences:
            take(p)
        for v in [data.arrival, *data.guest.visits]:
            if not v.special_requests:
                continue
            text = " ".join(v.special_requests).lower()
            for word, code in settings.keywords.items():
                if word.lower() in text:
                    diet.append(code)
                    evidence.append(f"special request of {v.source}/{v.source_id} mentions {code}")
            for word, code in settings.allergy_keywords.items():
                if word.lower() in text:
                    allergy.append(code)
                    evidence.append(f"special request of {v.source}/{v.source_id} mentions {code} allergy")
        if not diet and not allergy:
            return None
        lang = data.lang
        d = _join(lang, (label(c, lang) for c in diet))
        a = ""
        if allergy:
            items = _join(lang, (label(c, lang) for c in allergy))
            a = f"过敏：{items}（请与客人确认）" if lang == "zh" else f"allergy: {items} (confirm with guest)"
        sep = ("；" if lang == "zh" else "; ") if d and a else ""
        prefs = [("DIET", c) for c in dict.fromkeys(diet)] + [("ALLERGY", c) for c in dict.fromkeys(allergy)]
        text = self.say(settings, lang, diet=d, allergy=a, sep=sep)
        return Finding(text, sorted(set(evidence)), prefs)


class RoomSettings(RuleSettings):
    categories: list[str] = Field(
        default=["ROOM", "FLOOR", "BED", "PILLOW", "SMOKING", "VIEW", "QUIET", "TEMPERATURE", "LOCATION"]
    )


class RoomPreferences(AlertRule):
    name = "room_preferences"
    description = "Room preferences: floor, bed, pillow, quiet room, smoking, view"
    settings_model = RoomSettings
    wording: ClassVar[dict[str, str]] = {"zh": "客房偏好：{items}", "en": "Room preferences: {items}"}

    def evaluate(self, data: RuleInput, settings: RoomSettings) -> Finding | None:
        prefs = [p for p in data.guest.preferences if p.category in settings.categories]
        if not prefs:
            return None
        items = _join(data.lang, (label(p.code, data.lang) for p in prefs))
        evidence = [f"preference {p.category}:{p.code} from {p.source}" for p in prefs]
        return Finding(self.say(settings, data.lang, items=items), evidence)


class ComplaintSettings(RuleSettings):
    window_days: int = 365
    max_rating: int = Field(default=2, ge=1, le=5)  # ratings at or below this count (1–5 scale)
    categories: list[str] = Field(default=["complaint", "投诉"])


class Complaint(AlertRule):
    name = "complaint"
    description = "A complaint or low rating in recent stays, so the desk can avoid repeating it"
    settings_model = ComplaintSettings
    wording: ClassVar[dict[str, str]] = {
        "zh": "近期投诉/低分（{when}{what}）：请值班经理关注，避免重复",
        "en": "Recent complaint/low rating ({when}{what}): duty manager to follow up",
    }

    def evaluate(self, data: RuleInput, settings: ComplaintSettings) -> Finding | None:
        since = data.arrival.arrival - timedelta(days=settings.window_days)
        hits = []
        cats = {c.lower() for c in settings.categories}
        for f in data.guest.feedback:
            when = f.received_at.date() if f.received_at else None
            if when is None or not (since <= when <= data.today):
                continue
            low = f.rating is not None and f.rating <= settings.max_rating
            if low or (f.category or "").lower() in cats:
                hits.append((when, f))
        if not hits:
            return None
        when, f = max(hits, key=lambda h: h[0])
        what = ""
        if f.category and f.category.lower() not in cats:
            what = ("，" if data.lang == "zh" else ", ") + f.category
        elif f.rating is not None:
            what = f"，{f.rating}分" if data.lang == "zh" else f", rated {f.rating}/5"
        evidence = [f"feedback {h.source}/{h.source_id} of {d.isoformat()}" for d, h in hits]
        return Finding(self.say(settings, data.lang, when=when.strftime("%Y-%m"), what=what), evidence)


class Celebration(AlertRule):
    name = "celebration"
    description = "Birthday or anniversary during the stay"
    wording: ClassVar[dict[str, str]] = {
        "zh": "{what}：{day}（住店期间）",
        "en": "{what} on {day}, during the stay",
    }

    def evaluate(self, data: RuleInput, settings: RuleSettings) -> Finding | None:
        found: list[tuple[date, str, str]] = []
        bd = data.guest.birth_date
        if bd and (day := _in_stay((bd.month, bd.day), data.arrival)):
            found.append((day, "生日" if data.lang == "zh" else "Birthday", "birth date on profile"))
        for p in data.guest.preferences:
            if p.category != "ANNIVERSARY" or not p.value:
                continue
            try:
                parts = [int(x) for x in p.value.split("-")[-2:]]
            except ValueError:
                continue
            if len(parts) == 2 and (day := _in_stay((parts[0], parts[1]), data.arrival)):
                what = "纪念日" if data.lang == "zh" else "Anniversary"
                found.append((day, what, f"anniversary preference from {p.source}"))
        if not found:
            return None
        day, what, why = min(found)
        return Finding(self.say(settings, data.lang, what=what, day=_md(day, data.lang)), [why])


class VipSettings(RuleSettings):
    # The hotel's membership ladder, lowest first: cards named here get the VIP alert; the
    # highest a guest holds (across programmes) is the one shown. Chinese hotel groups often
    # use black, red or diamond cards above gold and platinum; set your own order.
    tiers: list[str] = Field(
        default=["GOLD", "PLATINUM", "TITANIUM", "BLACK", "RED", "AMBASSADOR", "DIAMOND", "VIP"]
    )
    value_tiers: list[str] = Field(default=["A"])
    show_points: bool = True


def _points(raw: object) -> str | None:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


class Vip(AlertRule):
    name = "vip"
    description = "Loyalty tier (the hotel's ladder, with points when known) or VIP, and high-value segment"
    settings_model = VipSettings
    wording: ClassVar[dict[str, str]] = {"zh": "贵宾：{items}", "en": "VIP: {items}"}

    def evaluate(self, data: RuleInput, settings: VipSettings) -> Finding | None:
        items, evidence = [], []
        ladder = [t.upper() for t in settings.tiers]
        best: tuple[int, str, object] | None = None
        for m in data.guest.attributes("memberships"):
            tier = str(m.get("tier") or "").strip().upper()
            if tier in ladder and (best is None or ladder.index(tier) > best[0]):
                best = (ladder.index(tier), tier, m.get("points"))
        if best is not None:
            _, tier, raw = best
            points = _points(raw) if settings.show_points and raw is not None else None
            if data.lang == "zh":
                items.append(f"{tier}会员" + (f"（积分 {points}）" if points else ""))
            else:
                items.append(f"{tier.title()} member" + (f" ({points} points)" if points else ""))
            evidence.append(f"membership tier {tier}" + (" with points" if points else ""))
        seg = data.guest.segment
        if seg and seg.value_tier in settings.value_tiers:
            items.append("高价值客人" if data.lang == "zh" else "high-value guest")
            evidence.append(f"value tier {seg.value_tier} (RFM {seg.recency}/{seg.frequency}/{seg.monetary})")
        if not items:
            return None
        return Finding(self.say(settings, data.lang, items=_join(data.lang, items)), evidence)


class ReturningSettings(RuleSettings):
    first_stay: bool = True  # also say "first stay"


class Returning(AlertRule):
    name = "returning"
    description = "Returning guest with the stay count, or first stay"
    settings_model = ReturningSettings
    wording: ClassVar[dict[str, str]] = {
        "zh": "第{count}次入住（上次 {last}）",
        "en": "Returning guest: stay no. {count} (last {last})",
    }

    def evaluate(self, data: RuleInput, settings: ReturningSettings) -> Finding | None:
        past = data.guest.past_stays(data.arrival.arrival)
        if not past:
            if not settings.first_stay:
                return None
            default = "首次入住" if data.lang == "zh" else "First stay"
            text = settings.wording.get(f"{data.lang}.first") or default
            return Finding(text, ["no earlier completed stay"])
        last = past[-1]
        return Finding(
            self.say(settings, data.lang, count=len(past) + 1, last=last.arrival.strftime("%Y-%m")),
            [f"{len(past)} earlier stay(s), last {last.source}/{last.source_id}"],
        )


class WinBackSettings(RuleSettings):
    min_prior_stays: int = Field(default=2, ge=2)  # an interval needs two stays
    factor: float = 3.0  # gap longer than factor x the guest's usual interval
    min_gap_days: int = 180


class WinBack(AlertRule):
    name = "win_back"
    description = "A guest returning after much longer than their usual interval"
    settings_model = WinBackSettings
    wording: ClassVar[dict[str, str]] = {
        "zh": "久未光临：距上次入住约{gap}个月（通常每{usual}个月），欢迎回来",
        "en": "Welcome back: first stay in about {gap} months (usually every {usual})",
    }

    def evaluate(self, data: RuleInput, settings: WinBackSettings) -> Finding | None:
        past = data.guest.past_stays(data.arrival.arrival)
        if len(past) < settings.min_prior_stays:
            return None
        gaps = [(b.arrival - a.arrival).days for a, b in pairwise(past)]
        usual = statistics.median(gaps)
        gap = (data.arrival.arrival - past[-1].arrival).days
        if gap < settings.min_gap_days or gap <= settings.factor * usual:
            return None
        months = max(round(gap / 30.4), 1)
        usual_m = max(round(usual / 30.4), 1)
        return Finding(
            self.say(settings, data.lang, gap=months, usual=usual_m),
            [f"gap {gap} days vs usual {usual:.0f} days over {len(past)} stays"],
        )


class LongStaySettings(RuleSettings):
    nights: int = Field(default=7, ge=2)


class LongStay(AlertRule):
    name = "long_stay"
    description = "Long stay"
    settings_model = LongStaySettings
    wording: ClassVar[dict[str, str]] = {"zh": "长住客人：{nights}晚", "en": "Long stay: {nights} nights"}

    def evaluate(self, data: RuleInput, settings: LongStaySettings) -> Finding | None:
        n = data.arrival.nights
        if n < settings.nights:
            return None
        return Finding(self.say(settings, data.lang, nights=n), [f"{n} nights booked"])


BUILTIN: tuple[type[AlertRule], ...] = (
    Vip, Dietary, RoomPreferences, Complaint, Celebration, Returning, WinBack, LongStay,
)  # fmt: skip


@hookimpl
def crmbridge_register_alert_rules() -> Iterable[AlertRule]:
    return [cls() for cls in BUILTIN]
