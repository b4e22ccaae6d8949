"""The TOP client: system parameters, GMT+8 timestamps, error_response mapping, bounded retries."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from crmbridge_fliggy.client import (
    GatewayUnavailable,
    InvalidArguments,
    InvalidSession,
    InvalidSignature,
    RateLimited,
    TopClient,
    TopError,
    top_time,
)
from crmbridge_fliggy.signing import verify

GATEWAY = "https://gw.example.test/router/rest"
NOW = datetime(2026, 11, 23, 4, 30, 5, tzinfo=UTC)  # 12:30:05 in Beijing
OK = {"xhotel_order_search_response": {"total_results": 0, "request_id": "r1"}}
LIMITED = {
    "error_response": {
        "code": 7,
        "msg": "App Call Limited",
        "sub_code": "accesscontrol.limited-by-app-access-count",
        "sub_msg": "This ban will last for 1 more seconds",
        "request_id": "r2",
    }
}


def client(**kw) -> TopClient:
    opts = {"max_attempts": 3, "backoff": 0.001, "max_wait": 0.002, **kw}
    return TopClient(GATEWAY, "23456789", "s3cret", "sess-1", "hmac-sha256", clock=lambda: NOW, **opts)


def sent(route: respx.Route, n: int = -1) -> dict[str, str]:
    return dict(parse_qsl(route.calls[n].request.content.decode()))


def test_timestamps_are_gmt8_wall_clock():
    assert top_time(NOW) == "2026-11-23 12:30:05"


@respx.mock
def test_request_carries_system_params_and_a_valid_signature():
    route = respx.post(GATEWAY).mock(return_value=httpx.Response(200, json=OK))
    body = client().call("taobao.xhotel.order.search", {"page_no": 1, "trade_status": None, "direct": True})
    assert body["total_results"] == 0
    form = sent(route)
    assert form["method"] == "taobao.xhotel.order.search" and form["timestamp"] == "2026-11-23 12:30:05"
    assert form["format"] == "json" and form["v"] == "2.0" and form["session"] == "sess-1"
    assert form["direct"] == "true" and "trade_status" not in form
    assert verify(form, "s3cret")


@respx.mock
def test_invalid_signature_says_so_and_is_not_retried():
    route = respx.post(GATEWAY).mock(
        return_value=httpx.Response(200, json={"error_response": {"code": 25, "msg": "Invalid signature"}})
    )
    with pytest.raises(InvalidSignature, match=r"code 25 Invalid signature.*app_secret and sign_method"):
        client().call("taobao.xhotel.order.search")
    assert route.call_count == 1


@respx.mock
def test_expired_session_tells_the_seller_to_authorise_again():
    respx.post(GATEWAY).mock(
        return_value=httpx.Response(
            200,
            json={"error_response": {"code": 27, "msg": "Invalid session", "sub_code": "invalid-sessionkey"}},
        )
    )
    with pytest.raises(InvalidSession, match="authorise the app again"):
        client().call("taobao.xhotel.order.search")


@respx.mock
def test_invalid_parameter_sub_code_is_reported_with_its_message():
    err = {
        "code": 50,
        "msg": "Remote service error",
        "sub_code": "isv.invalid-parameter",
        "sub_msg": "非法参数",
    }
    respx.post(GATEWAY).mock(return_value=httpx.Response(200, json={"error_response": err}))
    with pytest.raises(InvalidArguments, match=r"isv\.invalid-parameter: 非法参数") as info:
        client().call("taobao.xhotel.order.search")
    assert info.value.code == 50 and info.value.sub_msg == "非法参数"


@respx.mock
def test_rate_limit_backs_off_and_then_succeeds():
    route = respx.post(GATEWAY).mock(
        side_effect=[httpx.Response(200, json=LIMITED), httpx.Response(200, json=OK)]
    )
    assert client().call("taobao.xhotel.order.search")["total_results"] == 0
    assert route.call_count == 2


@respx.mock
def test_rate_limit_gives_up_after_the_bounded_attempts():
    route = respx.post(GATEWAY).mock(return_value=httpx.Response(200, json=LIMITED))
    with pytest.raises(RateLimited, match="code 7 App Call Limited") as info:
        client(max_attempts=3).call("taobao.xhotel.order.search")
    assert route.call_count == 3 and info.value.ban_seconds == 1


@respx.mock
def test_ban_length_is_honoured_up_to_max_wait():
    c = client(backoff=0.001, max_wait=0.05)
    respx.post(GATEWAY).mock(side_effect=[httpx.Response(200, json=LIMITED), httpx.Response(200, json=OK)])
    waits: list[float] = []
    c._wait_orig = c._wait  # type: ignore[attr-defined]
    c._wait = lambda state: waits.append(c._wait_orig(state)) or waits[-1]  # type: ignore[method-assign]
    c.call("taobao.xhotel.order.search")
    assert waits == [0.05]


@respx.mock
def test_gateway_errors_and_timeouts_are_retried_then_raised():
    route = respx.post(GATEWAY).mock(
        side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(502), httpx.Response(503)]
    )
    with pytest.raises(GatewayUnavailable, match="HTTP 503"):
        client(max_attempts=3).call("taobao.xhotel.order.search")
    assert route.call_count == 3


@respx.mock
def test_each_retry_is_signed_with_a_fresh_timestamp():
    times = iter([NOW, NOW.replace(second=9)])
    c = TopClient(
        GATEWAY,
        "23456789",
        "s3cret",
        "sess-1",
        "md5",
        clock=lambda: next(times),
        backoff=0.001,
        max_wait=0.002,
    )
    route = respx.post(GATEWAY).mock(
        side_effect=[httpx.Response(200, json=LIMITED), httpx.Response(200, json=OK)]
    )
    c.call("taobao.xhotel.order.search")
    assert [sent(route, i)["timestamp"][-2:] for i in (0, 1)] == ["05", "09"]
    assert all(verify(sent(route, i), "s3cret") for i in (0, 1))


@respx.mock
def test_a_response_without_the_method_key_is_an_error():
    respx.post(GATEWAY).mock(return_value=httpx.Response(200, json={"other_response": {}}))
    with pytest.raises(TopError, match="no xhotel_order_search_response"):
        client().call("taobao.xhotel.order.search")
