"""The receiver against slow and vanishing clients: a request's headers and body each have a
deadline, connections over the cap are closed at once, and a client that goes away costs one
INFO line, while valid orders keep being served."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from .receiver_helpers import reservation_row, wait_for
from .test_receiver import _order, _post, _receiver

SLOW_CLIENTS = 250


@pytest.fixture
def logs(caplog) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO)
    yield caplog


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    s = socket.create_connection((parts.hostname, parts.port), timeout=5)
    s.setblocking(False)
    return s


def _closed(s: socket.socket) -> bool:
    try:
        return s.recv(1024) == b""  # the server answered nothing and closed
    except BlockingIOError:
        return False
    except OSError:
        return True


def _trickle(s: socket.socket, byte: bytes) -> bool:
    """Send one byte; False when the server has closed the connection."""
    try:
        s.send(byte)
        return True
    except OSError:
        return False


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_250_slow_clients_are_closed_at_the_header_timeout_while_valid_orders_are_served(store, logs):
    timeout = 2.0
    request = b"POST /push/json HTTP/1.1\r\nHost: hotel\r\nContent-Type: application/json\r\n"
    with _receiver(store, header_timeout_s=timeout) as r:
        started = time.monotonic()
        socks = [_connect(r.url) for _ in range(SLOW_CLIENTS)]
        closed: dict[int, float] = {}
        served, i = 0, 0
        while len(closed) < SLOW_CLIENTS and time.monotonic() - started < 20:
            for n, s in enumerate(socks):  # one byte every 0.5 s each: never idle, never done
                if n not in closed and (_closed(s) or not _trickle(s, request[i % len(request) :][:1])):
                    closed[n] = time.monotonic() - started
            i += 1
            assert _post(r, _order(f"CT-SLOW-{i}")).status_code == 200
            served += 1
            time.sleep(0.5)
        for s in socks:
            s.close()
        wait_for(lambda: reservation_row(store, "ota", f"CT-SLOW-{i}"), what="the last order in the store")
    assert len(closed) == SLOW_CLIENTS, f"{SLOW_CLIENTS - len(closed)} slow connections still open"
    assert timeout - 0.3 <= min(closed.values()) and max(closed.values()) <= timeout + 2.5, closed
    assert served >= 4
    cut = [rec for rec in logs.records if "not in within" in rec.getMessage()]
    assert len(cut) == SLOW_CLIENTS and {rec.levelno for rec in cut} == {logging.INFO}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_body_sent_byte_by_byte_is_cut_off_at_the_body_timeout(store, logs):
    with _receiver(store, body_timeout_s=1.0) as r:
        s = _connect(r.url)
        s.send(b"POST /push/json HTTP/1.1\r\nHost: hotel\r\nContent-Length: 500\r\nx-token: t\r\n\r\n")
        started = time.monotonic()
        while not _closed(s) and time.monotonic() - started < 10 and _trickle(s, b"{"):
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        s.close()
    assert 0.8 <= elapsed <= 3.5
    assert not [rec for rec in logs.records if rec.levelno >= logging.WARNING]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_client_that_disconnects_mid_body_costs_one_info_line_and_no_traceback(store, logs):
    with _receiver(store) as r:
        s = _connect(r.url)
        s.send(b"POST /push/json HTTP/1.1\r\nHost: hotel\r\nContent-Length: 900\r\nx-token: t\r\n\r\n{")
        time.sleep(0.3)
        s.close()
        wait_for(lambda: any("went away" in rec.getMessage() for rec in logs.records), what="the line")
        assert _post(r, _order("CT-AFTER")).status_code == 200
    lines = [rec for rec in logs.records if rec.name.startswith(("crmbridge", "uvicorn"))]
    gone = [rec for rec in lines if "went away" in rec.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.INFO
    assert not [rec for rec in lines if rec.levelno >= logging.WARNING or rec.exc_info]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_connections_over_the_cap_are_closed_at_once_and_orders_are_served_after(store):
    with _receiver(store, max_connections=5, header_timeout_s=30) as r:
        socks = [_connect(r.url) for _ in range(20)]
        time.sleep(0.5)
        shut = [s for s in socks if _closed(s)]
        assert len(shut) == 15
        for s in socks:
            s.close()
        assert wait_for(lambda: _post(r, _order("CT-CAP")).status_code == 200, what="an order served")
