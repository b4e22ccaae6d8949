"""Linking POS checks to stays (store/pos_links.py) and dining insights (insights/dining.py).

Stays and folio postings go in through the core's writer, as the OPERA adapter's would; the
checks as the ``crmbridge_fetch_pos_checks`` hook would deliver them.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from crmbridge.insights.dining import dining_preferences, refresh_dining_insights
from crmbridge.store.pos_links import link_pos_checks
from crmbridge.store.reader import load_guests
from crmbridge.store.schema import pos_checks, pos_links, profile_records, reservations

from .pos_fixtures import check, folio, local, reservation, seed_hotel, stay


def _write(store, *, checks=(), folios=()) -> None:
    with store.transaction() as w:
        if folios:
            w.upsert_folios(list(folios))
        if checks:
            w.upsert_pos_checks(list(checks))


def _link(store):
    with store.engine.begin() as conn:
        return link_pos_checks(conn, store.keyring)


def _links(store) -> dict[str, tuple[str, str | None, str | None, str]]:
    """check number -> (status, reservation source id, method, reason)."""
    q = (
        select(
            pos_checks.c.check_number,
            pos_links.c.status,
            reservations.c.source_id,
            pos_links.c.method,
            pos_links.c.reason,
        )
        .join(pos_links, pos_links.c.check_id == pos_checks.c.id)
        .outerjoin(reservations, reservations.c.id == pos_links.c.reservation_id)
    )
    with store.engine.connect() as c:
        return {r[0]: tuple(r[1:]) for r in c.execute(q)}


def test_check_carried_by_a_folio_posting_links_to_that_reservation(store):
    seed_hotel(store)
    _write(
        store,
        checks=[check(4711, closed=local(20, 20, 15), total="274.80")],
        folios=[folio("TRX-99001", "RSV-884201", "2026-11-20", "274.80", 4711)],
    )
    _link(store)
    assert _links(store)["4711"][:3] == ("linked", "RSV-884201", "folio")


def test_shared_room_links_to_the_sharer_whose_folio_carries_the_charge(store):
    seed_hotel(store)
    _write(
        store,
        checks=[check(4712, closed=local(20, 19), room="1505", total="152.00")],
        folios=[folio("TRX-99002", "RSV-884203", "2026-11-20", "152.00", 4712)],
    )
    _link(store)
    assert _links(store)["4712"][:2] == ("linked", "RSV-884203")


def test_shared_room_without_posting_links_only_when_the_name_typed_matches_one_sharer(store):
    seed_hotel(store)
    _write(
        store,
        checks=[
            check(4713, closed=local(20, 19), room="1505", guest_name="LI/NA"),
            check(4714, closed=local(20, 21), room="1505"),
        ],
    )
    _link(store)
    links = _links(store)
    assert links["4713"][:3] == ("linked", "RSV-884202", "stay_name")
    assert links["4714"][:2] == ("unlinked", None) and "shared room" in links["4714"][3]


def test_room_move_follows_the_guest_and_leaves_the_old_room_to_its_next_occupant(store):
    seed_hotel(store)
    _write(
        store,
        checks=[
            check(4721, closed=local(19, 20), business_date="2026-11-19", room="1203"),
            check(4722, closed=local(20, 20), room="2206"),
            check(4723, closed=local(20, 20, 30), room="1203"),
        ],
    )
    _link(store)
    links = _links(store)
    assert links["4721"][:2] == ("linked", "RSV-884204")  # before the move
    assert links["4722"][:2] == ("linked", "RSV-884204")  # after the move, new room
    assert links["4723"][:2] == ("linked", "RSV-884206")  # the old room's new guest


def test_bar_check_after_midnight_before_rollover_stays_with_the_evenings_guest(store):
    # 00:40 on the 21st is still business date the 20th. Room 1808 is pre-assigned to the
    # guest arriving on the 21st; only the business date tells the two apart.
    seed_hotel(store)
    _write(store, checks=[check(4731, closed=local(21, 0, 40), room="1808", outlet="Lobby Bar 大堂吧")])
    _link(store)
    assert _links(store)["4731"][:2] == ("linked", "RSV-884201")


def test_folio_posting_made_after_midnight_matches_on_the_business_date(store):
    seed_hotel(store)
    _write(
        store,
        checks=[check(4732, closed=local(21, 1, 5), total="96.00")],
        folios=[folio("TRX-99003", "RSV-884201", "2026-11-20", "96.00", 4732)],
    )
    _link(store)
    assert _links(store)["4732"][:3] == ("linked", "RSV-884201", "folio")


def test_walk_in_and_unmatched_room_charges_stay_unlinked(store):
    seed_hotel(store)
    _write(
        store,
        checks=[
            check(4741, closed=local(20, 13), tender="wechat"),  # walk-in, paid by WeChat
            check(4742, closed=local(20, 13, 30), room="3001"),  # nobody in 3001
            check(4743, closed=local(20, 14)),  # room charge, no posting, no room number
            # A posting with the right number but another amount is not evidence.
            check(4744, closed=local(20, 14, 30), total="88.00"),
        ],
        folios=[folio("TRX-99004", "RSV-884201", "2026-11-20", "188.00", 4744)],
    )
    _link(store)
    links = _links(store)
    assert links["4741"] == ("unlinked", None, None, "not charged to a room")
    assert all(links[n][:2] == ("unlinked", None) for n in ("4742", "4743", "4744"))


def test_posting_arriving_after_the_check_links_it_on_the_next_run(store):
    seed_hotel(store)
    _write(store, checks=[check(4751, closed=local(20, 12), total="120.00")])
    _link(store)
    assert _links(store)["4751"][0] == "unlinked"
    _write(store, folios=[folio("TRX-99005", "RSV-884204", "2026-11-20", "120.00", 4751)])
    _link(store)
    assert _links(store)["4751"][:2] == ("linked", "RSV-884204")


def test_linking_again_changes_nothing(store):
    seed_hotel(store)
    _write(
        store,
        checks=[
            check(4761, closed=local(20, 19), room="2206"),
            check(4762, closed=local(20, 9), tender="cash"),
        ],
    )
    first = _link(store)
    with store.engine.connect() as c:
        before = c.execute(select(pos_links).order_by(pos_links.c.check_id)).all()
    again = _link(store)
    with store.engine.connect() as c:
        after = c.execute(select(pos_links).order_by(pos_links.c.check_id)).all()
    assert (first.changed, again.changed, again.evaluated) == (2, 0, 2)
    assert before == after


def _dining(store) -> list[dict]:
    with store.engine.connect() as c:
        rows = c.execute(select(profile_records).where(profile_records.c.source == "pos")).all()
        out = []
        for r in rows:
            text = store.keyring.decrypt(
                bytes(r.attributes_ct), table="profile_records", column="attributes_ct", row_id=r.id
            )
            out.append({"guest_id": r.guest_id, **json.loads(text)})
        return out


def test_a_repeated_drink_becomes_a_dining_preference_with_source_pos(store):
    seed_hotel(store)
    tea = ("Tieguanyin Tea 铁观音", "Tea", 1, "68.00")
    _write(
        store,
        checks=[
            check(4771, closed=local(18, 20), business_date="2026-11-18", room="1808", items=[tea]),
            check(4772, closed=local(19, 20), business_date="2026-11-19", room="1808",
                  items=[tea, ("Peking Duck 北京烤鸭", "Roast 烧烤", 1, "298.00")]),
            check(4773, closed=local(20, 20), room="1808", items=[tea]),
        ],
    )  # fmt: skip
    with store.engine.begin() as conn:
        link_pos_checks(conn, store.keyring)
        refresh_dining_insights(conn, store.keyring)
    [record] = _dining(store)
    prefs = {(p["category"], p["code"]): p for p in record["preferences"]}
    drink = prefs[("DINING_DRINK", "Tieguanyin Tea 铁观音")]
    assert 0.5 <= drink["confidence"] <= 0.95
    assert ("DINING_ITEM", "Peking Duck 北京烤鸭") not in prefs  # once is not a habit
    assert prefs[("DINING_SPEND", "Jade Garden 翡翠轩")]["value"].startswith("167.33 CNY")
    with store.engine.connect() as c:
        [view] = load_guests(c, store.keyring, [record["guest_id"]])
    assert "DINING_DRINK:Tieguanyin Tea 铁观音" in view.masked()["preferences"]
    with store.engine.connect() as c:
        for_rules = dining_preferences(c, store.keyring, record["guest_id"])
    assert ("DINING_DRINK", "Tieguanyin Tea 铁观音") in {(p.category, p.code) for p in for_rules}


def test_mostly_vegetarian_dishes_give_a_diet_signal(store):
    seed_hotel(store)
    tofu = ("Mapo Tofu (vegetarian) 素麻婆豆腐", "Hot Dishes 热菜", 1, "88.00")
    greens = ("Stir-fried Greens 清炒时蔬 (vegetarian)", "Hot Dishes 热菜", 1, "58.00")
    _write(
        store,
        checks=[
            check(4781, closed=local(21, 12), business_date="2026-11-21", room="2206", items=[tofu]),
            check(4782, closed=local(20, 19), room="2206", items=[greens, tofu]),
        ],
    )
    with store.engine.begin() as conn:
        link_pos_checks(conn, store.keyring)
        refresh_dining_insights(conn, store.keyring)
    [record] = _dining(store)
    diet = [p for p in record["preferences"] if p["category"] == "DIET"]
    assert [p["code"] for p in diet] == ["VEGETARIAN"] and diet[0]["confidence"] > 0.5


def test_returned_item_does_not_count_towards_a_favourite(store):
    seed_hotel(store)
    beer = ("Tsingtao Beer 青岛啤酒", "Beer", 1, "38.00")
    returned = ("Tsingtao Beer 青岛啤酒", "Beer", -1, "38.00")
    _write(
        store,
        checks=[
            check(4791, closed=local(19, 21), business_date="2026-11-19", room="2206", items=[beer]),
            check(4792, closed=local(20, 21), room="2206", items=[beer, returned], total="0.00"),
        ],
    )
    with store.engine.begin() as conn:
        link_pos_checks(conn, store.keyring)
        refresh_dining_insights(conn, store.keyring)
    [record] = _dining(store)
    assert not [p for p in record["preferences"] if p["category"] == "DINING_DRINK"]


def test_name_typed_at_the_pos_is_stored_encrypted(store):
    _write(store, checks=[check(4801, closed=local(20, 19), room="1505", guest_name="李娜 LI/NA")])
    with store.engine.connect() as c:
        row = c.execute(select(pos_checks)).one()
    assert "李娜".encode() not in bytes(row.guest_name_ct) and b"LI/NA" not in bytes(row.guest_name_ct)
    text = store.keyring.decrypt(
        bytes(row.guest_name_ct), table="pos_checks", column="guest_name_ct", row_id=row.id
    )
    assert text == "李娜 LI/NA"


def test_charge_moved_to_another_folio_links_to_the_folio_that_holds_it(store):
    seed_hotel(store)
    moved = folio("TRX-99011", "RSV-884202", "2026-11-20", "-152.00", 4811)  # reversed on 李娜's folio
    _write(
        store,
        checks=[check(4811, closed=local(20, 19), room="1505", total="152.00")],
        folios=[
            folio("TRX-99010", "RSV-884202", "2026-11-20", "152.00", 4811),
            moved,
            folio("TRX-99012", "RSV-884203", "2026-11-20", "152.00", 4811),  # ...and posted to Emma's
        ],
    )
    _link(store)
    assert _links(store)["4811"][:3] == ("linked", "RSV-884203", "folio")


def _changeover_in_2501(store) -> None:
    """Stays known by dates only (as an OPERA stay without times): 赵敏 leaves on the 21st,
    Olivia Brown arrives in the same room that day."""
    with store.transaction() as w:
        w.upsert_reservations(
            [
                reservation("RSV-884207", "2026-11-18", "2026-11-21"),
                reservation("RSV-884208", "2026-11-21", "2026-11-23"),
            ]
        )
        w.upsert_stays([stay("STAY-884207", "RSV-884207", "2501"), stay("STAY-884208", "RSV-884208", "2501")])


def test_stay_known_by_dates_takes_checks_up_to_and_on_its_departure_day(store):
    _changeover_in_2501(store)
    _write(store, checks=[check(4821, closed=local(20, 21), room="2501")])
    _link(store)
    assert _links(store)["4821"][:3] == ("linked", "RSV-884207", "stay")


def test_changeover_day_known_only_by_dates_stays_unlinked(store):
    _changeover_in_2501(store)
    _write(store, checks=[check(4822, closed=local(21, 8), business_date="2026-11-21", room="2501")])
    _link(store)
    assert _links(store)["4822"][:2] == ("unlinked", None)


def test_after_midnight_check_with_stays_known_by_dates_goes_by_business_date(store):
    # 00:40 on the changeover day is still the 20th: 赵敏's night, before Olivia Brown's day.
    _changeover_in_2501(store)
    _write(store, checks=[check(4823, closed=local(21, 0, 40), business_date="2026-11-20", room="2501")])
    _link(store)
    assert _links(store)["4823"][:2] == ("linked", "RSV-884207")


def test_merged_guest_keeps_one_dining_record_on_the_survivor(store):
    from sqlalchemy import update

    from crmbridge.store.schema import guests

    seed_hotel(store)
    tea = ("Tieguanyin Tea 铁观音", "Tea", 1, "68.00")
    _write(
        store,
        checks=[
            check(4831, closed=local(19, 20), business_date="2026-11-19", room="1808", items=[tea]),
            check(4832, closed=local(20, 20), room="2206", items=[tea]),
        ],
    )
    with store.engine.begin() as conn:
        link_pos_checks(conn, store.keyring)
        refresh_dining_insights(conn, store.keyring)
    before = {r["guest_id"] for r in _dining(store)}
    assert len(before) == 2  # 张伟 and 王芳, one check each: no favourite yet
    survivor, merged = sorted(before)
    with store.engine.begin() as conn:  # identity resolution decides they are one person
        conn.execute(update(guests).where(guests.c.id == merged).values(merged_into=survivor))
        conn.execute(
            update(profile_records).where(profile_records.c.guest_id == merged).values(guest_id=survivor)
        )
        refresh_dining_insights(conn, store.keyring, [merged])
    [record] = _dining(store)
    assert record["guest_id"] == survivor
    assert ("DINING_DRINK", "Tieguanyin Tea 铁观音") in {
        (p["category"], p["code"]) for p in record["preferences"]
    }


def test_drinks_are_told_from_dishes_by_menu_group_and_whole_words():
    from decimal import Decimal

    from crmbridge.insights.dining import _is_drink, _Line

    def drink(name: str, group: str | None = None) -> bool:
        return _is_drink(_Line("c", "i", name, group, Decimal(1)))

    assert drink("Tieguanyin 铁观音", "Tea") and drink("Green tea") and drink("青岛啤酒", "啤酒")
    assert not drink("Steak frites") and not drink("Barbecue pork") and not drink("樟茶鸭", "Roast 烧烤")
