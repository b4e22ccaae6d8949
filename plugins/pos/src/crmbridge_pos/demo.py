"""The demo's restaurant: two outlets, a few days of invented checks, served by the simulator.

Its room charges are the ones the demo's PMS posts to its guests' folios
(``crmbridge.synthetic.demo_room_charges``), so the demo shows checks linked to stays; the
checks paid in cash or by card stay unlinked, as they must."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crmbridge.synthetic import demo_room_charges

from .simulator import SimphonySimulator, guest_check, stock_location

DEMO_LOC = "SHA01-FB"


def demo_simulator(today: date | None = None, seed: int = 7) -> tuple[SimphonySimulator, dict[str, Any]]:
    """A bound (not yet serving) simulator and the source options that read it."""
    rng = random.Random(seed)
    today = today or datetime.now(UTC).date()
    sim = SimphonySimulator(password="demo-only-password")
    stock_location(sim, DEMO_LOC, today)
    n = 0
    for day_offset in range(3):
        bus = today - timedelta(days=2 - day_offset)
        for _ in range(5):  # paid at the table: nothing ties them to a guest
            n += 1
            opened = datetime(bus.year, bus.month, bus.day, 10, 30, tzinfo=UTC) + timedelta(
                minutes=rng.randint(0, 180)
            )
            items = [
                (rng.choice([1001, 1002, 1003, 2001, 2002, 2003, 2004]), rng.randint(1, 2)) for _ in range(3)
            ]
            check = guest_check(
                160000 + n,
                4000 + n,
                rvc=rng.choice([10, 20]),
                opened=opened,
                closed=opened + timedelta(minutes=50),
                bus_dt=bus,
                items=items,
                tender=rng.choice([1, 20]),
                service_pct=15,
            )
            sim.put_check(DEMO_LOC, check, updated=opened + timedelta(minutes=50))
    for charge in demo_room_charges(today):
        n += 1
        opened = charge.closed_at - timedelta(minutes=50)
        check = guest_check(
            160000 + n,
            charge.check_number,
            rvc=10,
            opened=opened,
            closed=charge.closed_at,
            bus_dt=charge.business_date,
            items=[(2003, 1)],
            prices={2003: charge.amount},  # the duck banquet for the table, at its price
            tender=10,
            room=charge.room,
        )
        sim.put_check(DEMO_LOC, check, updated=charge.closed_at)
    sim.bind()
    options = {
        "base_url": sim.url,
        "org": sim.org,
        "username": sim.username,
        "password": sim.password,
        "client_id": sim.client_id,
        "locations": [DEMO_LOC],
        "hotel_code": "SHA01",
        "business_day_start": "04:00",
    }
    return sim, options
