"""Taobao Open Platform request signing, as the TOP SDKs compute it.

Every parameter except ``sign`` is sorted by key in byte order and concatenated as
``key1value1key2value2…`` with raw UTF-8 values (no ``=``, no ``&``, no URL-encoding), then:

* ``md5``: MD5(secret + concat + secret)
* ``hmac``: HMAC-MD5(key=secret, msg=concat)
* ``hmac-sha256``: HMAC-SHA256(key=secret, msg=concat)

and the digest is upper-case hex. The Java SDK drops empty values before signing and the PHP
one does not, so callers never send empty parameters (``sign`` refuses them).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Literal

SignMethod = Literal["md5", "hmac", "hmac-sha256"]
SIGN_METHODS: tuple[SignMethod, ...] = ("md5", "hmac", "hmac-sha256")


def signing_string(params: Mapping[str, str]) -> str:
    """The string TOP signs: sorted ``keyvalue`` pairs, ``sign`` itself excluded."""
    # Byte order, not locale or case-folded order: "app_key" < "fields" < "v".
    keys = sorted((k for k in params if k != "sign"), key=lambda k: k.encode())
    return "".join(f"{k}{params[k]}" for k in keys)


def sign(params: Mapping[str, str], secret: str, method: SignMethod) -> str:
    """The upper-case hex ``sign`` of ``params`` under ``secret`` with ``method``."""
    empty = [k for k, v in params.items() if k != "sign" and (v is None or v == "")]
    if empty:
        raise ValueError(f"empty TOP parameters are signed differently by each SDK: {', '.join(empty)}")
    body = signing_string(params).encode()
    key = secret.encode()
    if method == "md5":
        digest = hashlib.md5(key + body + key).hexdigest()
    elif method == "hmac":
        digest = hmac.new(key, body, hashlib.md5).hexdigest()
    elif method == "hmac-sha256":
        digest = hmac.new(key, body, hashlib.sha256).hexdigest()
    else:
        raise ValueError(f"unknown TOP sign_method {method!r} (use one of {', '.join(SIGN_METHODS)})")
    return digest.upper()


def verify(params: Mapping[str, str], secret: str) -> bool:
    """Whether ``params['sign']`` is right for the ``sign_method`` they name (constant time)."""
    method = params.get("sign_method", "md5")
    given = params.get("sign", "")
    if method not in SIGN_METHODS or not given:
        return False
    try:
        expected = sign(params, secret, method)  # type: ignore[arg-type]
    except ValueError:
        return False
    return hmac.compare_digest(expected, given.upper())
