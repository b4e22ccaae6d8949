"""The TOP pull: ``taobao.xhotel.order.search`` window by window, page by page.

A *pass* covers ``[start, end)`` in windows of at most 30 days on ``created_start``/
``created_end`` (the API's limit), walking ``page_no`` (20 orders a page, TOP's fixed size).
Each page is one batch whose cursor is the position after it, so a killed run resumes at the
next page. Windows lie wholly in the past when the pass starts, so later orders cannot shift
the pages. A completed pass records its end; the next pass starts a week before it, so recent
orders are re-read and their status changes land, and once a day a pass re-reads the whole
90 days TOP keeps, for check-ins and check-outs of orders booked long ago.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crmbridge.api import Batch, Reject, Reservation, SourceContext, validate_into

from .client import GMT8, TopClient, parse_top_time, top_time
from .mapping import Unmappable, items, map_order, order_id

SEARCH = "taobao.xhotel.order.search"
PAGE_SIZE = 20
WINDOW = timedelta(days=30)
HISTORY = timedelta(days=90)  # how far back TOP keeps orders searchable
REREAD = timedelta(days=7)
DEEP_EVERY = timedelta(days=1)
MAX_PAGES = 500  # 10,000 orders in one 30-day window is far beyond a hotel: stop, don't loop


class TooManyPages(RuntimeError):
    pass


@dataclass
class PullState:
    """The cursor: what is read (``done_until``), when the last 90-day pass ran, the pass under way."""

    done_until: datetime | None = None
    deep_at: datetime | None = None
    start: datetime | None = None  # the pass under way, if any
    end: datetime | None = None
    window: datetime | None = None  # start of the window being paged
    page: int = 0  # last page of that window committed

    @classmethod
    def load(cls, text: str | None) -> PullState:
        data: dict[str, Any] = json.loads(text) if text else {}
        pull = data.get("pull") or {}

        def t(key: str, src: dict[str, Any] = pull) -> datetime | None:
            return parse_top_time(src[key]) if src.get(key) else None

        state = cls(done_until=t("done_until"), deep_at=t("deep_at"))
        run = pull.get("pass")
        if run:
            state.start, state.end, state.window = t("start", run), t("end", run), t("window", run)
            state.page = int(run.get("page", 0))
        return state

    def dump(self) -> str:
        def s(v: datetime | None) -> str | None:
            return top_time(v) if v else None

        pull: dict[str, Any] = {"done_until": s(self.done_until), "deep_at": s(self.deep_at)}
        if self.start is not None:
            pull["pass"] = {
                "start": s(self.start),
                "end": s(self.end),
                "window": s(self.window),
                "page": self.page,
            }
        return json.dumps({"pull": pull})


def _begin_pass(state: PullState, now: datetime) -> None:
    oldest = now - HISTORY
    deep = state.deep_at is None or now - state.deep_at >= DEEP_EVERY
    start = oldest if deep or state.done_until is None else max(oldest, state.done_until - REREAD)
    if deep:
        state.deep_at = now
    state.start, state.end, state.window, state.page = start, now, start, 0


def _page_batch(ctx: SourceContext, orders: list[Any]) -> Batch[Reservation]:
    batch: Batch[Reservation] = Batch([], None)
    wanted = set(ctx.settings.hotel_ids)
    context = {"phone_region": ctx.phone_region}
    for order in orders:
        raw = json.dumps(order, ensure_ascii=False, sort_keys=True)
        if not isinstance(order, dict):
            batch.rejects.append(Reject("?", "order is not a JSON object", raw))
            continue
        if wanted and str(order.get("hid", "")) not in wanted:
            continue  # another hotel of the same seller
        try:
            data = map_order(order, source=ctx.name)
        except Unmappable as exc:
            try:
                sid = order_id(order)
            except Unmappable:
                sid = "?"
            batch.rejects.append(Reject(sid, f"record {ctx.name}/{sid} is invalid: {exc}", raw))
            continue
        validate_into(Reservation, data, raw, batch, context)
    return batch


def fetch_orders(
    ctx: SourceContext, client: TopClient, cursor: str | None, full: bool, now: datetime
) -> Iterator[Batch[Reservation]]:
    """Batches of reservations, one per page, each with the cursor after it."""
    state = PullState.load(None if full else cursor)
    now = now.astimezone(GMT8).replace(microsecond=0)
    if state.start is None:
        _begin_pass(state, now)
    assert state.window is not None and state.end is not None
    while state.window < state.end:
        w_start = state.window
        w_end = min(w_start + WINDOW, state.end)
        for page in range(state.page + 1, MAX_PAGES + 1):
            resp = client.call(
                SEARCH, {"created_start": top_time(w_start), "created_end": top_time(w_end), "page_no": page}
            )
            orders = items(resp.get("hotel_orders"))
            total = int(resp.get("total_results") or 0)
            batch = _page_batch(ctx, orders)
            last = page >= math.ceil(total / PAGE_SIZE) or len(orders) < PAGE_SIZE
            if last:
                state.window, state.page = w_end, 0
            else:
                state.page = page
            batch.cursor = state.dump()
            yield batch
            if last:
                break
        else:
            raise TooManyPages(
                f"more than {MAX_PAGES} pages of orders created between {top_time(w_start)} and "
                f"{top_time(w_end)}; refusing to page on"
            )
    state.done_until = state.end
    state.start = state.end = state.window = None
    state.page = 0
    yield Batch([], state.dump())
