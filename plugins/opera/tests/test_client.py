"""The OHIP client at unit level (respx): tokens, headers, retries, RFC 7807 errors, warnings."""

from __future__ import annotations

import logging
import re
import uuid

import httpx
import pytest
import respx
from crmbridge_opera.client import OperaClient
from crmbridge_opera.errors import OperaApiError, OperaAuthError, OperaUnavailable, UncertainOutcome

from .conftest import APP_KEY, CLIENT_SECRET, make_config

GW = "https://ohip.example.test"
RESV = f"{GW}/rsv/v1/hotels/SHA01/reservations"


def token_route(mock: respx.MockRouter, expires_in: int = 3600) -> respx.Route:
    tokens = iter(f"tok-{i}" for i in range(100))
    return mock.post(f"{GW}/oauth/v1/tokens").mock(
        side_effect=lambda req: httpx.Response(
            200, json={"access_token": next(tokens), "expires_in": expires_in, "token_type": "Bearer"}
        )
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(sleeps: list[float] | None = None, clock: Clock | None = None, **cfg) -> OperaClient:
    return OperaClient(
        make_config(**cfg),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        clock=clock or Clock(),
    )


@respx.mock
def test_token_request_uses_basic_client_auth_app_key_and_client_credentials():
    tok = token_route(respx.mock)
    respx.get(RESV).mock(return_value=httpx.Response(204))
    client().get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations")
    req = tok.calls.last.request
    assert req.headers["authorization"].startswith("Basic ")
    assert req.headers["x-app-key"] == APP_KEY
    body = req.content.decode()
    assert "grant_type=client_credentials" in body and "scope=" in body and "username" not in body


@respx.mock
def test_password_grant_when_username_and_password_are_configured():
    tok = token_route(respx.mock)
    respx.get(RESV).mock(return_value=httpx.Response(204))
    client(username="CRM_INTEGRATION", password="pw-Value-1").get_json(
        "x", "/rsv/v1/hotels/SHA01/reservations"
    )
    body = tok.calls.last.request.content.decode()
    assert "grant_type=password" in body and "username=CRM_INTEGRATION" in body


@respx.mock
def test_every_business_call_sends_token_app_key_hotel_and_a_request_id():
    token_route(respx.mock)
    route = respx.get(RESV).mock(return_value=httpx.Response(204))
    client().get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations")
    h = route.calls.last.request.headers
    assert h["authorization"] == "Bearer tok-0"
    assert h["x-app-key"] == APP_KEY and h["x-hotelid"] == "SHA01"
    uuid.UUID(h["x-request-id"])


@respx.mock
def test_token_is_reused_then_renewed_before_it_expires():
    tok = token_route(respx.mock, expires_in=3600)
    route = respx.get(RESV).mock(return_value=httpx.Response(204))
    clock = Clock()
    c = client(clock=clock)
    c.get_json("a", "/rsv/v1/hotels/SHA01/reservations")
    clock.now += 2000  # 40 minutes: still fresh
    c.get_json("a", "/rsv/v1/hotels/SHA01/reservations")
    assert tok.call_count == 1
    clock.now += 1100  # 58 minutes: inside the renewal margin, before expiry
    c.get_json("a", "/rsv/v1/hotels/SHA01/reservations")
    assert tok.call_count == 2
    assert route.calls.last.request.headers["authorization"] == "Bearer tok-1"


@respx.mock
def test_a_401_renews_the_token_once_and_retries():
    tok = token_route(respx.mock)
    route = respx.get(RESV).mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json={"reservations": {}})]
    )
    assert client().get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations") == {
        "reservations": {}
    }
    assert tok.call_count == 2 and route.call_count == 2
    assert route.calls.last.request.headers["authorization"] == "Bearer tok-1"


@respx.mock
def test_a_second_401_is_an_error_naming_the_credentials_to_check():
    token_route(respx.mock)
    respx.get(RESV).mock(return_value=httpx.Response(401))
    with pytest.raises(OperaApiError, match="check client_id, client_secret and app_key") as exc:
        client().get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations")
    assert exc.value.status == 401


@respx.mock
def test_a_refused_token_request_says_what_to_check():
    respx.post(f"{GW}/oauth/v1/tokens").mock(
        return_value=httpx.Response(
            401, json={"type": "x", "title": "Unauthorized", "detail": "invalid client"}
        )
    )
    with pytest.raises(OperaAuthError, match=r"401 Unauthorized: invalid client.*`client_secret`"):
        client().get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations")


@respx.mock
def test_429_waits_as_long_as_retry_after_says():
    token_route(respx.mock)
    respx.get(RESV).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={})]
    )
    sleeps: list[float] = []
    client(sleeps).get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations")
    assert sleeps == [7.0]


@respx.mock
def test_5xx_is_retried_with_growing_backoff_then_fails_with_a_clear_error():
    token_route(respx.mock)
    route = respx.get(RESV).mock(return_value=httpx.Response(503))
    sleeps: list[float] = []
    with pytest.raises(OperaUnavailable, match=r"getHotelReservations failed after 4 attempts.*503") as exc:
        client(sleeps, max_attempts=4).get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations")
    assert route.call_count == 4 and len(sleeps) == 3
    assert "ohip.example.test" in str(exc.value) and "timeout_s" in str(exc.value)


@respx.mock
def test_5xx_then_success_returns_the_answer():
    token_route(respx.mock)
    respx.get(RESV).mock(
        side_effect=[httpx.Response(500), httpx.Response(502), httpx.Response(200, json={"a": 1})]
    )
    assert client().get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations") == {"a": 1}


@respx.mock
def test_timeouts_on_reads_are_retried():
    token_route(respx.mock)
    respx.get(RESV).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={"ok": True})])
    assert client().get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations") == {"ok": True}


@respx.mock
def test_a_write_that_timed_out_after_sending_is_uncertain_and_not_resent():
    token_route(respx.mock)
    route = respx.post(f"{RESV}/alerts").mock(side_effect=httpx.ReadTimeout("no answer"))
    with pytest.raises(UncertainOutcome, match="may have been applied"):
        client().call(
            "postBulkReservationAlerts", "POST", "/rsv/v1/hotels/SHA01/reservations/alerts", body={}
        )
    assert route.call_count == 1


@respx.mock
def test_a_write_that_could_not_connect_is_retried():
    token_route(respx.mock)
    route = respx.post(f"{RESV}/alerts").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201)]
    )
    client().call("postBulkReservationAlerts", "POST", "/rsv/v1/hotels/SHA01/reservations/alerts", body={})
    assert route.call_count == 2


@respx.mock
def test_rfc7807_error_body_becomes_a_message_with_title_detail_and_code():
    token_route(respx.mock)
    problem = {
        "type": "https://example.test/problems/404",
        "title": "Reservation not found",
        "status": 404,
        "detail": "No reservation with this id in hotel SHA01",
        "o:errorCode": "RSV-NOT-FOUND",
    }
    respx.get(f"{RESV}/999").mock(return_value=httpx.Response(404, json=problem))
    with pytest.raises(OperaApiError) as exc:
        client().get_json("getReservation", "/rsv/v1/hotels/SHA01/reservations/999")
    msg = str(exc.value)
    assert msg.startswith("OPERA getReservation failed: 404 Reservation not found: No reservation")
    assert "(o:errorCode RSV-NOT-FOUND)" in msg and "check hotel_id" in msg
    assert exc.value.code == "RSV-NOT-FOUND"


@respx.mock
def test_warnings_on_a_2xx_answer_are_logged(caplog):
    token_route(respx.mock)
    body = {
        "links": [],
        "warnings": [{"code": "W-ALERT-CODE", "shortText": "Alert code inactive", "value": "x"}],
    }
    respx.post(f"{RESV}/alerts").mock(return_value=httpx.Response(201, json=body))
    with caplog.at_level(logging.WARNING, logger="crmbridge_opera"):
        client().call(
            "postBulkReservationAlerts", "POST", "/rsv/v1/hotels/SHA01/reservations/alerts", body={}
        )
    assert "postBulkReservationAlerts warning W-ALERT-CODE: Alert code inactive" in caplog.text


@respx.mock
def test_amounts_are_parsed_as_decimal_not_float():
    token_route(respx.mock)
    respx.get(RESV).mock(return_value=httpx.Response(200, content=b'{"amount": 1288.10}'))
    amount = client().get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations")["amount"]
    assert str(amount) == "1288.10"


@respx.mock
def test_no_secret_or_token_is_ever_logged(caplog):
    token_route(respx.mock)
    respx.get(RESV).mock(side_effect=[httpx.Response(401), httpx.Response(503), httpx.Response(200, json={})])
    with caplog.at_level(logging.DEBUG):
        client().get_json("getHotelReservations", "/rsv/v1/hotels/SHA01/reservations")
    text = caplog.text
    assert caplog.records  # the retries were logged
    for secret in (APP_KEY, CLIENT_SECRET, "tok-0", "tok-1"):
        assert secret not in text
    assert not re.search(r"Basic [A-Za-z0-9+/=]{8,}", text)


@respx.mock
def test_reservation_pages_are_walked_until_has_more_is_false():
    from datetime import date

    from crmbridge_opera.reading import Reader, Window

    from crmbridge.adapters.base import SourceContext

    token_route(respx.mock)

    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        infos = [{"reservationIdList": [{"id": str(offset + i), "type": "Reservation"}]} for i in range(20)]
        more = offset < 40
        return httpx.Response(200, json={"reservations": {"reservationInfo": infos, "hasMore": more}})

    route = respx.get(RESV).mock(side_effect=page)
    cfg = make_config(page_size=20)
    reader = Reader(SourceContext("opera", "opera", cfg), client(**{"page_size": 20}))
    day = date(2026, 12, 1)
    pages = list(reader.walk("arrival", Window(day), day))
    assert [len(infos) for infos, _ in pages] == [20, 20, 20]
    assert [nxt for _, nxt in pages] == [Window(day, 20), Window(day, 40), None]
    params = [dict(c.request.url.params) for c in route.calls]
    assert [p["offset"] for p in params] == ["0", "20", "40"] and {p["limit"] for p in params} == {"20"}
    assert params[0]["arrivalStartDate"] == params[0]["arrivalEndDate"] == "2026-12-01"
