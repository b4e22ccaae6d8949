"""Contact points and documents into comparable forms: e-mails, phones, ID numbers.

Each normaliser returns ``None`` for a value that must not be used as identity evidence
(an OTA relay address, a masked phone for exact matching, an ID number whose checksum fails).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# Providers that ignore dots in the local part, and the domain they are aliases of.
_DOTLESS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
# Domains that are one mailbox under several names.
_ALIASES = {"foxmail.com": "qq.com", "vip.qq.com": "qq.com", "139.com": "139.com"}
# OTAs hand hotels a relay address (or a masked one) instead of the guest's: it identifies the
# booking, not the person, and two strangers can share a masked form.
DEFAULT_RELAY_DOMAINS = (
    "guest.booking.com",
    "m.expediapartnercentral.com",
    "agoda-messaging.com",
    "relay.ctrip.com",
    "ctrip-relay.com",
    "relay.trip.com",
    "message.trip.com",
    "fliggy-relay.com",
    "relay.fliggy.com",
    "alitrip-relay.com",
)
MASK_CHARS = ("*", "…", "＊", "×")

# Mainland mobile ranges of the virtual operators (MVNOs), where OTA privacy numbers (a number
# the OTA rents per booking and forwards to the guest's phone for 1-30 days) are issued; the
# same number reaches many unrelated guests, so it never counts as identity evidence. Source:
# the MIIT numbering plan as summarised in VincentSit/ChinaMobilePhoneNumberRegex (README-CN):
# China Telecom 162, 1700-1702; China Mobile 165, 1703/1705/1706; China Unicom 167, 1704,
# 1707-1709, 171. A hotel adds its OTAs' other ranges in [identity] virtual_phone_prefixes.
DEFAULT_VIRTUAL_PREFIXES = ("+86162", "+86165", "+86167", "+86170", "+86171")


def is_virtual_phone(number: str, prefixes: tuple[str, ...] = DEFAULT_VIRTUAL_PREFIXES) -> bool:
    """Whether an E.164 (or masked, +86170****1234) number is in a virtual/privacy range."""
    return any(number.startswith(p) for p in prefixes)


def is_relay_email(address: str, relay_domains: tuple[str, ...] = DEFAULT_RELAY_DOMAINS) -> bool:
    a = unicodedata.normalize("NFKC", address).strip().lower()
    if any(c in a for c in MASK_CHARS):
        return True
    domain = a.rpartition("@")[2]
    return any(domain == d or domain.endswith("." + d) for d in relay_domains) or "relay" in domain


def normalise_email(address: str, relay_domains: tuple[str, ...] = DEFAULT_RELAY_DOMAINS) -> str | None:
    """Lower-cased mailbox with sub-address and provider rules; None for relay/masked ones."""
    a = unicodedata.normalize("NFKC", address).strip().lower()
    local, at, domain = a.rpartition("@")
    if not at or not local or not domain or is_relay_email(a, relay_domains):
        return None
    # Sub-addresses (name+hotel@, common to Gmail, Outlook, QQ, iCloud) reach one mailbox.
    local = local.split("+", 1)[0]
    domain = _ALIASES.get(domain, domain)
    if domain in _DOTLESS:
        local, domain = local.replace(".", ""), _DOTLESS[domain]
    return f"{local}@{domain}" if local else None


_MASKED_PHONE = re.compile(r"(\+?\d*)([*＊×xX]{2,})(\d{2,})")


def masked_phone(raw: str, region: str = "CN") -> str | None:
    """A masked phone (138****8000, as OTAs show it) in a canonical masked form.

    The visible prefix and suffix stay; a CN mobile gets its country code so it lines up
    with E.164 numbers (+86138****8000)."""
    compact = re.sub(r"[\s\-().]", "", unicodedata.normalize("NFKC", raw))
    m = _MASKED_PHONE.fullmatch(compact)
    if not m:
        return None
    prefix, stars, suffix = m.groups()
    if prefix.startswith("0086"):
        prefix = "+86" + prefix[4:]
    elif prefix.startswith("86") and len(prefix) >= 5:
        prefix = "+" + prefix
    elif not prefix.startswith("+") and region == "CN" and prefix.startswith("1"):
        prefix = "+86" + prefix
    return f"{prefix}{'*' * len(stars)}{suffix}"


def phone_consistent(masked: str, e164: str) -> bool:
    """Whether a full number could be the one behind a mask (prefix, suffix and length agree)."""
    head = masked.split("*", 1)[0]
    tail = masked.rsplit("*", 1)[1]
    return len(masked) == len(e164) and e164.startswith(head) and e164.endswith(tail)


def phone_suffix(number: str, n: int = 4) -> str | None:
    digits = number.rsplit("*", 1)[-1]
    return digits[-n:] if len(digits) >= n else None


# GB 11643-1999: 17 digits weighted mod 11, check character from this table.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id(number: str) -> str | None:
    """A PRC resident ID number (居民身份证号) upper-cased, or None if its checksum or date fails."""
    n = unicodedata.normalize("NFKC", number).strip().upper().replace(" ", "")
    if not re.fullmatch(r"\d{17}[\dX]", n):
        return None
    total = sum(int(d) * w for d, w in zip(n[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != n[17]:
        return None
    try:
        date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return None
    return n


def resident_id_birth_date(number: str) -> date | None:
    n = resident_id(number)
    return date(int(n[6:10]), int(n[10:12]), int(n[12:14])) if n else None


RESIDENT_ID_TYPES = {"ID_CARD", "IDCARD", "RESIDENT_ID", "身份证", "居民身份证", "NATIONAL_ID_CN"}
PASSPORT_TYPES = {"PASSPORT", "PP", "护照"}


def document_key(doc_type: str, number: str, country: str | None) -> str | None:
    """``TYPE:COUNTRY:NUMBER`` for a document worth matching on, else None.

    A passport number is unique only within its issuing country, so a passport without one
    is not evidence; a resident ID must pass its checksum."""
    t = unicodedata.normalize("NFKC", doc_type).strip().upper()
    num = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", number)).upper()
    c = (country or "").strip().upper()
    if t in RESIDENT_ID_TYPES:
        rid = resident_id(num)
        return f"CN_ID:CN:{rid}" if rid else None
    if t in PASSPORT_TYPES:
        if not c or not re.fullmatch(r"[A-Z0-9]{5,20}", num):
            return None
        return f"PASSPORT:{c}:{num}"
    if not num:
        return None
    return f"{t}:{c}:{num}"
