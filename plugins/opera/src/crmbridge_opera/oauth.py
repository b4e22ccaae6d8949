"""OAuth tokens for OHIP: `POST /oauth/v1/tokens`, cached and renewed before they expire.

Client credentials by default; the password grant when `username`/`password` are configured.
The client authenticates with HTTP Basic (client id and secret) and `x-app-key`. Oracle's
guidance is to renew a 60-minute token after about 50 minutes and not more often, so a token
is reused until `RENEW_MARGIN_S` before its expiry (a fifth of its life for short tokens).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .config import OperaConfig
from .errors import OperaAuthError, problem_message

log = logging.getLogger("crmbridge_opera.oauth")

TOKEN_PATH = "/oauth/v1/tokens"
# Oracle's documented scope for OHIP client-credentials tokens.
CLIENT_CREDENTIALS_SCOPE = "urn:opc:hgbu:ws:__myscopes__"
RENEW_MARGIN_S = 600.0


@dataclass
class Token:
    value: str
    expires_at: float  # monotonic seconds
    lifetime: float

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - min(RENEW_MARGIN_S, self.lifetime / 5)


# Tokens outlive one sync run: every stream of every run of a source (and `crmbridge run`
# every few minutes) reuses the process's token until it is due for renewal.
_SHARED: dict[tuple[str, ...], Token] = {}
_SHARED_LOCK = threading.Lock()


def clear_token_cache() -> None:
    with _SHARED_LOCK:
        _SHARED.clear()


class TokenManager:
    """Holds the current token; `get()` returns a valid one, fetching or renewing as needed."""

    def __init__(
        self,
        cfg: OperaConfig,
        http: httpx.Client,
        clock: Callable[[], float] = time.monotonic,
        before_request: Callable[[], None] | None = None,  # the request budget
    ) -> None:
        self.cfg = cfg
        self.http = http
        self.before_request = before_request
        self.clock = clock
        self.fetches = 0  # how many tokens this manager fetched
        self._key = (cfg.base_url, cfg.client_id, cfg.username or "", cfg.enterprise_id or "")

    def get(self) -> str:
        with _SHARED_LOCK:
            token = _SHARED.get(self._key)
            if token is None or not token.fresh(self.clock()):
                token = _SHARED[self._key] = self._fetch()
            return token.value

    def invalidate(self, token: str) -> None:
        """Drop `token` after OPERA refused it (401), unless another call already renewed it."""
        with _SHARED_LOCK:
            current = _SHARED.get(self._key)
            if current is not None and current.value == token:
                del _SHARED[self._key]

    def _form(self) -> dict[str, str]:
        if self.cfg.username and self.cfg.password:
            return {
                "grant_type": "password",
                "username": self.cfg.username,
                "password": self.cfg.password.get_secret_value(),
            }
        return {"grant_type": "client_credentials", "scope": CLIENT_CREDENTIALS_SCOPE}

    def _fetch(self) -> Token:
        form = self._form()
        headers = {"x-app-key": self.cfg.app_key.get_secret_value()}
        if self.cfg.enterprise_id and form["grant_type"] == "client_credentials":
            headers["enterpriseId"] = self.cfg.enterprise_id
        if self.before_request is not None:
            self.before_request()
        try:
            resp = self.http.post(
                self.cfg.base_url + TOKEN_PATH,
                data=form,
                headers=headers,
                auth=(self.cfg.client_id, self.cfg.client_secret.get_secret_value()),
                timeout=self.cfg.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise OperaAuthError(
                f"could not reach the OHIP token endpoint at {self.cfg.base_url}{TOKEN_PATH} "
                f"({type(exc).__name__}); check `gateway_url` and the network"
            ) from None
        if resp.status_code != 200:
            raise OperaAuthError(
                f"OHIP refused the token request ({problem_message(resp)}); check `client_id`, "
                f"`client_secret` and `app_key`"
                + (", `username` and `password`" if form["grant_type"] == "password" else "")
                + f" for hotel {self.cfg.hotel_id}"
            )
        try:
            body = resp.json()
            value = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise OperaAuthError("the OHIP token response has no access_token") from None
        self.fetches += 1
        log.info("OHIP token obtained (%s grant, valid %ds)", form["grant_type"], int(lifetime))
        return Token(value, self.clock() + lifetime, lifetime)
