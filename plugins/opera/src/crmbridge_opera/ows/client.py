"""The OWS transport: one zeep client per service, the OGHeader, retries, Result checks.

Every call carries the `OGHeader` (transaction id, time stamp, origin and destination
entity/system, the OWS user's credentials). An answer whose `Result/@resultStatusFlag` is
`FAIL`, or a SOAP Fault, becomes an `OwsError` saying what to check. Reads are retried
(tenacity, exponential backoff with jitter) on timeouts, connection errors, 5xx and Faults;
a write is retried only when it cannot have reached OPERA (the connection was never made, or
HTTP 503/429). A write that may have arrived (timeout after sending, connection dropped,
Fault) raises `UncertainOutcome`: the caller settles it by reading back.

WSDLs come from the hotel's own server (`{base_url}/{Service}.asmx?wsdl`), or from
`wsdl_dir`; either way the service address is overridden with `base_url`. zeep parses them
with DTDs, entities and external references forbidden.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import urllib3.exceptions
import zeep
import zeep.exceptions
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from zeep.cache import InMemoryCache
from zeep.transports import Transport

from ..budget import RequestBudget
from ..errors import OperaUnavailable, UncertainOutcome
from .config import OwsConfig
from .errors import OwsError, OwsHttpError

log = logging.getLogger("crmbridge_opera.ows")

CORE = "http://webservices.micros.com/og/4.3/Core/"
BINDINGS = {s: f"{{http://tempuri.org/}}{s}ServiceSoap" for s in ("Name", "Reservation", "ResvAdvanced")}
BINDINGS["Information"] = "{http://tempuri.org/}InformationSoap"
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 30.0
WSDL_CACHE = InMemoryCache(timeout=3600)  # a WSDL is read from the server once an hour at most


class _Retryable(Exception):
    """An answer worth another attempt: HTTP 5xx/429 without a SOAP body."""


class _Counted(Transport):
    """zeep's transport with the request budget applied to every HTTP request."""

    def __init__(self, budget: RequestBudget, **kw: Any) -> None:
        super().__init__(**kw)
        self.budget = budget

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        self.budget.acquire()
        return super().post(address, message, headers)

    def load(self, url: str) -> bytes:
        if url.startswith(("http://", "https://")) and (self.cache is None or self.cache.get(url) is None):
            self.budget.acquire()
        return super().load(url)


def _may_have_arrived(exc: BaseException) -> bool:
    """False only when the request certainly never reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        inner = exc.args[0] if exc.args else None
        reason = getattr(inner, "reason", inner)
        return not isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionRefusedError)
    return True


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no error"
    if isinstance(exc, requests.RequestException):
        return type(exc).__name__
    if isinstance(exc, zeep.exceptions.Fault):
        return f"SOAP Fault {str(exc.message or '')[:120]}"
    return str(exc)[:200] or type(exc).__name__


def result_of(operation: str, resp: Any) -> Any:
    """Raise `OwsError` unless the response's Result says SUCCESS."""
    result = getattr(resp, "Result", None) if resp is not None else None
    if result is None:
        return resp
    flag = getattr(result, "resultStatusFlag", None)
    if flag == "FAIL":
        texts = []
        text = getattr(result, "Text", None)
        for t in getattr(text, "TextElement", None) or ():
            texts.append(str(getattr(t, "_value_1", t) or ""))
        code = getattr(result, "OperaErrorCode", None)
        raise OwsError(operation, "; ".join(x for x in texts if x) or "no text", str(code) if code else None)
    return resp


class OwsClient:
    """One hotel's OWS server. Services are loaded on first use."""

    def __init__(
        self,
        cfg: OwsConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        self.cfg = cfg
        self.sleep = sleep
        self.log = logger or log
        self.budget = budget or RequestBudget(cfg.max_requests_per_second)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "crmbridge-opera-ows/0.1"
        self._services: dict[str, Any] = {}
        self._clients: dict[str, zeep.Client] = {}

    @property
    def requests_sent(self) -> int:
        return self.budget.sent

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> OwsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- services --------------------------------------------------------------------------
    def wsdl_location(self, service: str) -> str:
        if self.cfg.wsdl_dir:
            return str(Path(self.cfg.wsdl_dir) / f"{service}.wsdl")
        return f"{self.cfg.service_url(service)}?wsdl"

    def _client(self, service: str) -> zeep.Client:
        if service not in self._clients:
            transport = _Counted(
                self.budget,
                session=self.session,
                cache=WSDL_CACHE,
                timeout=self.cfg.timeout_s,
                operation_timeout=self.cfg.timeout_s,
            )
            settings = zeep.Settings(
                strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
            location = self.wsdl_location(service)
            try:
                self._clients[service] = zeep.Client(location, transport=transport, settings=settings)
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                raise OwsHttpError(f"{service} WSDL", status, location) from None
            except (requests.RequestException, OSError) as exc:
                raise OperaUnavailable(
                    f"OWS {service}: the WSDL at {location} could not be read ({_describe(exc)}); "
                    "check `base_url` (or `wsdl_dir`) and that the OWS server is reachable"
                ) from None
        return self._clients[service]

    def service(self, service: str) -> Any:
        if service not in self._services:
            self._services[service] = self._client(service).create_service(
                BINDINGS[service], self.cfg.service_url(service)
            )
        return self._services[service]

    def header(self, service: str, transaction: str) -> Any:
        cfg = self.cfg
        element = self._client(service).get_element(f"{{{CORE}}}OGHeader")
        credentials: dict[str, Any] = {
            "UserName": cfg.username,
            "UserPassword": cfg.password.get_secret_value(),
        }
        if cfg.domain:
            credentials["Domain"] = cfg.domain
        return element(
            transactionID=transaction,
            timeStamp=datetime.now(UTC).replace(microsecond=0),
            primaryLangID="E",
            Origin={"entityID": cfg.origin_entity, "systemType": cfg.origin_system},
            Destination={"entityID": cfg.destination_entity, "systemType": cfg.destination_system},
            Authentication={"UserCredentials": credentials},
        )

    # -- the one way to call OWS -----------------------------------------------------------
    def call(
        self, service: str, operation: str, *, write: bool = False, check: bool = True, **body: Any
    ) -> Any:
        """Call `service.operation(**body)`; return the response or raise an `OperaError`."""
        transaction = uuid.uuid4().hex[:20]
        exp = wait_exponential(multiplier=BACKOFF_INITIAL_S, max=BACKOFF_MAX_S)
        jitter = wait_random(0, BACKOFF_INITIAL_S)

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, _Retryable):
                return True
            if isinstance(exc, requests.RequestException):
                return not write or not _may_have_arrived(exc)
            if isinstance(exc, zeep.exceptions.Fault):
                # A Client fault says the request itself is wrong: sending it again cannot help.
                return not write and "client" not in str(exc.code or "").lower()
            return False

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self.log.warning(
                "OWS %s attempt %d/%d failed (%s); retrying",
                operation, state.attempt_number, self.cfg.max_attempts, _describe(exc),
            )  # fmt: skip

        retrying = Retrying(
            stop=stop_after_attempt(self.cfg.max_attempts),
            wait=lambda s: exp(s) + jitter(s),
            retry=retry_if_exception(retryable),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=False,
        )
        try:
            resp = retrying(self._attempt, service, operation, transaction, write, body)
        except requests.RequestException as exc:  # a write that may have arrived
            raise UncertainOutcome(
                f"OWS {operation}: no answer after sending ({_describe(exc)}); it may have been applied"
            ) from None
        except zeep.exceptions.Fault as exc:
            if write:
                raise UncertainOutcome(
                    f"OWS {operation}: SOAP Fault after sending; it may have been applied"
                ) from None
            raise OwsError(
                operation, str(exc.message or "")[:300], str(exc.code or "") or None, fault=True
            ) from None
        except RetryError as err:
            last = err.last_attempt.exception()
            if isinstance(last, zeep.exceptions.Fault):
                raise OwsError(operation, str(last.message or "")[:300], None, fault=True) from None
            raise OperaUnavailable(
                f"OWS {operation} failed after {err.last_attempt.attempt_number} attempts "
                f"(last: {_describe(last)}); check that {self.cfg.base_url} is reachable, "
                f"raise `timeout_s` or `max_attempts`, or try again later"
            ) from None
        return result_of(operation, resp) if check else resp

    def _attempt(
        self, service: str, operation: str, transaction: str, write: bool, body: dict[str, Any]
    ) -> Any:
        svc = self.service(service)
        started = time.monotonic()
        try:
            resp = getattr(svc, operation)(**body, _soapheaders=[self.header(service, transaction)])
        except zeep.exceptions.TransportError as exc:
            status = exc.status_code or 0
            if status in (401, 403, 404):
                raise OwsHttpError(operation, status, self.cfg.service_url(service)) from None
            if write and status not in (429, 503):
                raise UncertainOutcome(f"OWS {operation}: HTTP {status}; it may have been applied") from None
            raise _Retryable(f"HTTP {status}") from None
        # With a SOAP header in the answer, zeep returns {header, body}: the body is the answer.
        if resp is not None and "body" in getattr(resp, "__values__", {}):
            resp = resp["body"]
        self.log.debug(
            "OWS %s.%s in %.0f ms (transaction %s)",
            service, operation, (time.monotonic() - started) * 1000, transaction,
        )  # fmt: skip
        return resp
