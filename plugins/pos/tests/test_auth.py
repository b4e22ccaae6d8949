"""Simphony OpenID Connect sign-in against the loopback simulator: PKCE, renewal, refusal."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from crmbridge_pos.auth import SimphonyAuth, SimphonyAuthError
from crmbridge_pos.client import SimphonyClient, SimphonyError
from crmbridge_pos.simulator import SimphonySimulator, stock_location

from .conftest import BUS, LOC


def _auth(sim: SimphonySimulator, clock, password: str | None = None, **kw) -> SimphonyAuth:
    return SimphonyAuth(
        sim.url,
        client_id=sim.client_id,
        org=sim.org,
        username=sim.username,
        password=password or sim.password,
        clock=clock,
        **kw,
    )


def test_sign_in_exchanges_the_code_with_the_pkce_verifier_for_an_id_token(sim, clock):
    auth = _auth(sim, clock)
    with SimphonyClient(sim.url, sim.org, auth) as client:
        assert client.latest_business_date(LOC)[0] == BUS
    assert (sim.stats["signin"], sim.stats["token_code"], auth.sign_ins) == (1, 1, 1)


def test_wrong_password_is_refused_with_a_message_that_does_not_echo_it(sim, clock):
    auth = _auth(sim, clock, password="not-the-password")
    with pytest.raises(SimphonyAuthError, match="signin refused") as err:
        auth.token()
    assert "not-the-password" not in str(err.value) and "not-the-password" not in repr(auth)


def test_token_is_renewed_with_the_refresh_token_before_it_expires(clock):
    sim = SimphonySimulator(clock=clock, token_ttl=timedelta(hours=1))
    stock_location(sim, LOC, BUS)
    with sim:
        auth = _auth(sim, clock, margin=timedelta(minutes=10))
        with SimphonyClient(sim.url, sim.org, auth) as client:
            client.latest_business_date(LOC)
            clock.advance(minutes=49)
            client.latest_business_date(LOC)
            assert sim.stats["token_refresh"] == 0  # 11 minutes left: still good
            clock.advance(minutes=2)
            client.latest_business_date(LOC)
    assert (sim.stats["token_refresh"], sim.stats["signin"], sim.stats["rejected_401"]) == (1, 1, 0)


def test_refused_refresh_falls_back_to_a_full_sign_in(clock):
    sim = SimphonySimulator(clock=clock, token_ttl=timedelta(hours=1))
    stock_location(sim, LOC, BUS)
    with sim:
        auth = _auth(sim, clock)
        auth.token()
        sim._refresh.clear()  # the identity provider forgot the refresh token
        clock.advance(minutes=55)
        auth.token()
    assert (sim.stats["signin"], sim.stats["token_refresh"]) == (2, 0)


def test_token_rejected_by_the_api_triggers_one_new_sign_in_and_the_call_succeeds(sim, clock):
    auth = _auth(sim, clock)
    with SimphonyClient(sim.url, sim.org, auth) as client:
        client.latest_business_date(LOC)
        sim.revoke_tokens()
        assert client.latest_business_date(LOC)[0] == BUS
    assert (sim.stats["rejected_401"], sim.stats["signin"]) == (1, 2)


def test_server_errors_are_retried_then_reported_with_operation_and_status(sim, clock):
    with SimphonyClient(sim.url, sim.org, _auth(sim, clock), max_wait=0.01) as client:
        sim.faults[:] = [503, 502]
        assert client.latest_business_date(LOC)[0] == BUS  # third attempt answers
        sim.faults[:] = [503] * 4
        with pytest.raises(SimphonyError, match=r"getLatestBusinessDate for location 'SHA01-FB': HTTP 503"):
            client.latest_business_date(LOC)
        sim.faults[:] = [400]
        with pytest.raises(SimphonyError, match="HTTP 400"):
            client.latest_business_date(LOC)
    assert sim.faults == []  # the 400 was asked once, not retried


def test_unreachable_identity_provider_is_a_connection_error(clock):
    auth = SimphonyAuth("http://127.0.0.1:9", client_id="x", org="o", username="u", password="p", clock=clock)
    with pytest.raises(httpx.ConnectError):
        auth.token()
