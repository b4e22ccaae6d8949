"""Staff, roles and retention through the command line."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta

import pytest

from crmbridge.access.roles import ROLES
from crmbridge.cli.privacy import stale_guests
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore

from .hotel_cli import COLUMNS, cli, hotel_checkout, keys_url
from .test_roles import expected_keys


@pytest.fixture
def root(tmp_path, db_url):
    return hotel_checkout(tmp_path, db_url)


def _gid(root) -> str:
    return json.loads(cli(root, "guests", "--json").stdout)[0]["guest_id"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_each_role_sees_exactly_its_fields_through_the_cli(root):
    gid = _gid(root)
    for name in ROLES:
        cli(root, "staff", "add", f"{name}-2", "--role", name)
        # marketing sees only consented guests: give this one a consent first
    cli(
        root,
        "privacy",
        "consent",
        gid,
        "--purpose",
        "marketing",
        "--wording",
        "n-2026-1",
        "--as",
        "front_office-2",
    )
    for name in ROLES:
        shown = json.loads(cli(root, "guests", "show", gid, "--json", "--as", f"{name}-2").stdout)
        assert set(shown) == expected_keys(name), name


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_local_admin_sees_profiles_masked_and_cannot_unmask(root):
    gid = _gid(root)
    shown = cli(root, "guests", "show", gid, "--json").stdout
    assert "张伟" not in shown and "E41234567" not in shown
    refused = cli(root, "guests", "show", gid, "--unmask", "--reason", "curious", check=False)
    assert refused.exit_code == 2 and "may not guests unmask" in refused.output
    row = json.loads(cli(root, "audit", "list", "--json", "--guest", gid).stdout)[0]  # newest first
    assert row["staff"].startswith("local:") and row["action"] == "profile"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_staff_commands_refuse_bad_input_and_change_nothing(root):
    bad_role = cli(root, "staff", "add", "wang.fang", "--role", "concierge", check=False)
    assert bad_role.exit_code == 2 and "unknown role 'concierge'" in bad_role.output
    unknown = cli(root, "staff", "revoke", "nobody", "--yes", check=False)
    assert unknown.exit_code == 2 and "no staff member named 'nobody'" in unknown.output
    assert [s["name"] for s in json.loads(cli(root, "staff", "list", "--json").stdout)] == ["dpo-1"]
    not_admin = cli(root, "staff", "add", "x", "--role", "fnb", "--as", "dpo-1", check=False)
    assert not_admin.exit_code == 2 and "may not manage staff" in not_admin.output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_revoked_member_can_no_longer_act_through_the_cli(root):
    cli(root, "staff", "add", "zhou.jie", "--role", "front_office")
    token = cli(root, "staff", "token", "zhou.jie").stdout.strip()
    assert token.startswith("crb_")
    cli(root, "staff", "revoke", "zhou.jie", "--yes")
    gone = cli(root, "guests", "--as", "zhou.jie", check=False)
    assert gone.exit_code == 2 and "revoked" in gone.output
    [z] = [s for s in json.loads(cli(root, "staff", "list", "--json").stdout) if s["name"] == "zhou.jie"]
    assert z["active"] is False


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_marketing_export_via_the_cli_holds_only_consented_guests(root):
    cli(root, "staff", "add", "mk-1", "--role", "marketing")
    cli(root, "staff", "add", "gr-1", "--role", "guest_relations")
    assert (
        json.loads(cli(root, "segments", "export", "all", "--purpose", "marketing", "--as", "mk-1").stdout)
        == []
    )
    gid = _gid(root)
    cli(root, "privacy", "consent", gid, "--purpose", "marketing", "--wording", "n-2026-1", "--as", "gr-1")
    [row] = json.loads(
        cli(root, "segments", "export", "all", "--purpose", "marketing", "--as", "mk-1").stdout
    )
    assert row["guest_id"] == gid and row["emails"]
    cli(
        root,
        "privacy",
        "consent",
        gid,
        "--purpose",
        "marketing",
        "--wording",
        "n-2026-1",
        "--withdraw",
        "--as",
        "gr-1",
    )
    assert (
        json.loads(cli(root, "segments", "export", "all", "--purpose", "marketing", "--as", "mk-1").stdout)
        == []
    )
    wrong = cli(root, "segments", "export", "all", "--purpose", "profiling", "--as", "mk-1", check=False)
    assert wrong.exit_code == 2 and "marketing" in wrong.output
    assert "guests" in cli(root, "segments", "--json").stdout  # the distribution still answers


def test_purge_lists_stale_guests_first_and_erases_them_only_when_asked(root, db_url):
    # a guest last seen in 2019: past the default three years
    with (root / "imports" / "old.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerow(
            [
                "PMS-1999",
                "Checked Out",
                "2019-05-01",
                "2019-05-03",
                "Min",
                "Chen",
                "陈敏",
                "chen.min@example.cn",
                "137 0013 7000",
                "1970-02-02",
                "",
                "",
                "",
                "",
                "CNF-19",
                "500.00",
                "CNY",
                "2019-05-03T10:00:00+08:00",
            ]
        )
    cli(root, "sync", "--full")
    dry = json.loads(cli(root, "privacy", "purge", "--dry-run", "--json").stdout)
    [stale] = dry["guests"]
    assert stale["last_activity"].startswith("2019-05-03")
    not_dpo = cli(root, "privacy", "purge", "--yes", check=False)
    assert not_dpo.exit_code == 2 and len(json.loads(cli(root, "guests", "--json").stdout)) == 4
    cli(root, "privacy", "purge", "--yes", "--as", "dpo-1")
    left = json.loads(cli(root, "guests", "--json").stdout)
    assert stale["guest_id"] not in {g["guest_id"] for g in left} and len(left) == 3
    store = GuestStore.open(
        db_url, Keyring.load(root / "var" / "crmbridge.key"), upgrade=False, key_store_url=keys_url(root)
    )
    with store.engine.connect() as conn:
        assert stale_guests(conn, datetime.now(UTC) - timedelta(days=3 * 365)) == []
        assert len(stale_guests(conn, datetime.now(UTC) + timedelta(days=5 * 365))) == 3
    store.close()


def _audit_rows(root) -> int:
    return len(json.loads(cli(root, "audit", "list", "--json", "--limit", "10000").stdout))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_cli_read_path_writes_an_audit_row(root):
    gid = _gid(root)
    cli(root, "staff", "add", "mk-3", "--role", "marketing")
    cli(root, "staff", "add", "fo-3", "--role", "front_office")
    cli(root, "privacy", "consent", gid, "--purpose", "marketing", "--wording", "n-1", "--as", "fo-3")
    paths = {
        "guests": ["guests", "--json"],
        "guests show": ["guests", "show", gid, "--json"],
        "guests show --unmask": ["guests", "show", gid, "--unmask", "--reason", "desk", "--as", "fo-3"],
        "privacy export": [
            "privacy",
            "export",
            gid,
            "--out",
            str(root / "x.json"),
            "--reason",
            "r-1",
            "--as",
            "dpo-1",
        ],
        "segments export": ["segments", "export", "all", "--purpose", "marketing", "--as", "mk-3"],
    }
    for name, args in paths.items():
        before = _audit_rows(root)
        cli(root, *args)
        assert _audit_rows(root) > before, name
    assert json.loads(cli(root, "audit", "verify", "--json").stdout)["ok"] is True
