"""Simphony BI API sign-in: OpenID Connect authorization code with PKCE, renewed before expiry.

The flow (R&A 20.1 "Authenticate"): ``GET …/oauth2/authorize`` (client id, PKCE challenge;
sets a session cookie), ``POST …/oauth2/signin`` (form ``username``, ``password``,
``orgname``; answers ``{"nextOp": "redirect", "success": "true", "redirectUrl":
"…?code=…"}``), then ``POST …/oauth2/token`` exchanging the code and the verifier for an
``id_token`` (sent as ``Authorization: Bearer``) and a refresh token. The token is renewed
with the refresh token once less than ``margin`` of its life is left; if that fails, or the
server answers 401 anyway, the whole sign-in runs again, once.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

OIDC = "/oidc-provider/v1/oauth2"
REDIRECT_URI = "apiaccount://callback"


# Building an SSL context costs ~50 ms; sign-ins and renewals share one.
_SSL = httpx.create_ssl_context()


class SimphonyAuthError(Exception):
    """Sign-in refused or the identity provider answered something unexpected."""


@dataclass
class Token:
    id_token: str
    refresh_token: str | None
    expires_at: datetime


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _json(resp: httpx.Response, step: str) -> dict:
    try:
        data = resp.json()
    except ValueError:
        raise SimphonyAuthError(f"{step}: HTTP {resp.status_code}, not JSON") from None
    if not isinstance(data, dict):
        raise SimphonyAuthError(f"{step}: HTTP {resp.status_code}, unexpected body")
    return data


class SimphonyAuth(httpx.Auth):
    """An httpx auth that signs in lazily, renews before expiry and retries a 401 once."""

    def __init__(
        self,
        auth_url: str,
        *,
        client_id: str,
        org: str,
        username: str,
        password: str,
        margin: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ):
        self.auth_url = auth_url.rstrip("/")
        self.client_id, self.org = client_id, org
        self._username, self._password = username, password
        self.margin, self.clock = margin, clock
        self._transport, self._timeout = transport, timeout
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.sign_ins = 0
        self.renewals = 0

    def __repr__(self) -> str:  # never show the password
        return f"SimphonyAuth(org={self.org!r}, user={self._username!r})"

    def _client(self) -> httpx.Client:
        # One client per sign-in: its cookie jar carries the authorize session to signin.
        return httpx.Client(
            transport=self._transport, timeout=self._timeout, follow_redirects=False, verify=_SSL
        )

    def _store(self, data: dict, step: str) -> Token:
        tok = data.get("id_token")
        if not tok:
            raise SimphonyAuthError(f"{step}: no id_token in the answer")
        try:
            ttl = int(data.get("expires_in", 0))
        except (TypeError, ValueError):
            ttl = 0
        if ttl <= 0:
            raise SimphonyAuthError(f"{step}: expires_in missing or not positive")
        self._token = Token(tok, data.get("refresh_token"), self.clock() + timedelta(seconds=ttl))
        return self._token

    def sign_in(self) -> Token:
        verifier, challenge = _pkce()
        with self._client() as c:
            r = c.get(
                f"{self.auth_url}{OIDC}/authorize",
                params={
                    "response_type": "code",
                    "client_id": self.client_id,
                    "scope": "openid",
                    "redirect_uri": REDIRECT_URI,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )
            if r.status_code >= 400:
                raise SimphonyAuthError(f"authorize: HTTP {r.status_code} (is the client id right?)")
            r = c.post(
                f"{self.auth_url}{OIDC}/signin",
                data={"username": self._username, "password": self._password, "orgname": self.org},
            )
            body = _json(r, "signin")
            if r.status_code >= 400 or str(body.get("success")).lower() != "true":
                raise SimphonyAuthError(
                    f"signin refused (HTTP {r.status_code}): check username, password and org "
                    f"{self.org!r} of the API account"
                )
            redirect = str(body.get("redirectUrl", ""))
            code = parse_qs(urlsplit(redirect).query).get("code", [""])[0]
            if not code:
                raise SimphonyAuthError("signin: no authorization code in redirectUrl")
            r = c.post(
                f"{self.auth_url}{OIDC}/token",
                data={
                    "grant_type": "authorization_code",
                    "client_id": self.client_id,
                    "code": code,
                    "code_verifier": verifier,
                    "redirect_uri": REDIRECT_URI,
                    "scope": "openid",
                },
            )
            data = _json(r, "token")
            if r.status_code >= 400:
                raise SimphonyAuthError(f"token: HTTP {r.status_code} {data.get('error', '')}".strip())
        self.sign_ins += 1
        return self._store(data, "token")

    def _renew(self, tok: Token) -> Token:
        if tok.refresh_token:
            with self._client() as c:
                r = c.post(
                    f"{self.auth_url}{OIDC}/token",
                    data={
                        "grant_type": "refresh_token",
                        "client_id": self.client_id,
                        "refresh_token": tok.refresh_token,
                        "redirect_uri": REDIRECT_URI,
                    },
                )
            if r.status_code < 400:
                self.renewals += 1
                return self._store(_json(r, "refresh"), "refresh")
        return self.sign_in()  # refresh token missing, expired or refused

    def token(self, *, force: bool = False) -> str:
        with self._lock:
            tok = self._token
            if tok is None or force:
                tok = self.sign_in()
            elif self.clock() >= tok.expires_at - self.margin:
                tok = self._renew(tok)
            return tok.id_token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.token(force=True)}"
            yield request
