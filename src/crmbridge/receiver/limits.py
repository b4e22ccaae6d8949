"""Deadlines and a connection cap for the receiver, enforced where uvicorn reads the socket.

uvicorn times out only the keep-alive gap between requests: a client that opens a connection
and sends its request one byte every few seconds holds it for ever, and a few hundred such
clients hold the server. An ASGI middleware cannot help, since the app is called only once
the headers are complete. So the h11 protocol is extended: the request line and headers must
arrive within `header_timeout_s` of their first byte (or of the connection), the body within
`body_timeout_s` of the headers, and connections beyond `max_connections` are closed at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


@dataclass
class Limits:
    header_timeout_s: float
    body_timeout_s: float
    max_connections: int
    refused: int = 0  # connections closed over the cap, for the log's sake
    timed_out: int = 0


class GuardedH11Protocol(H11Protocol):
    """H11Protocol with request deadlines; `limits` is set on a subclass per receiver."""

    limits: Limits

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._phase = ""
        self._seen: Any = None  # the request cycle whose headers we have seen
        super().connection_made(transport)
        if len(self.server_state.connections) > self.limits.max_connections:
            self.limits.refused += 1
            if self.limits.refused % 100 == 1:  # one line per hundred, not one per attack
                log.warning(
                    "receiver: more than %d connections open; closing new ones (%d so far)",
                    self.limits.max_connections,
                    self.limits.refused,
                )
            transport.close()
            return
        self._arm("headers", self.limits.header_timeout_s)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self._between_requests():
            self._arm("headers", self.limits.header_timeout_s)  # the next request on a kept-alive one
        super().data_received(data)
        cycle = self.cycle
        if cycle is not None and cycle is not self._seen:
            self._seen = cycle
            self._disarm()
            if cycle.more_body:
                self._arm("body", self.limits.body_timeout_s)
        elif self._phase == "body" and cycle is not None and not cycle.more_body:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._expired, phase, seconds)

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()  # type: ignore[union-attr]
        self._deadline, self._phase = None, ""

    def _expired(self, phase: str, seconds: float) -> None:
        self._deadline, self._phase = None, ""
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if phase == "headers" and cycle is not self._seen:
            return  # its headers came in time
        if phase == "body" and (cycle is None or not cycle.more_body):
            return
        self.limits.timed_out += 1
        peer = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        log.info(
            "receiver: closed the connection from %s: request %s not in within %gs", peer, phase, seconds
        )
        self.transport.close()


def guarded_protocol(limits: Limits) -> type[GuardedH11Protocol]:
    """A protocol class bound to one receiver's limits (uvicorn instantiates it per connection)."""
    return type("ReceiverH11Protocol", (GuardedH11Protocol,), {"limits": limits})
