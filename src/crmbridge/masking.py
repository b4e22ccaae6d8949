"""Masked renderings of PII for screens and logs: enough to recognise, not to reuse."""

from __future__ import annotations


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    parts = name.split()
    if len(parts) == 1 and not name.isascii():
        return name[0] + "*" * (len(name) - 1)  # 张伟 -> 张*
    return " ".join(p[0] + "*" * (len(p) - 1) for p in parts)


def mask_email(addr: str | None) -> str:
    if not addr or "@" not in addr:
        return ""
    local, _, domain = addr.partition("@")
    return f"{local[0]}***@{domain}"


def mask_phone(e164: str | None) -> str:
    if not e164:
        return ""
    if len(e164) <= 7:
        return "*" * len(e164)
    return e164[:-8] + "****" + e164[-4:]


def mask_document(number: str | None) -> str:
    if not number:
        return ""
    return "*" * max(0, len(number) - 4) + number[-4:]
