"""Erasure by crypto-shredding, end to end through the CLI, with a backup taken before it."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from crmbridge.cli.app import app
from crmbridge.store.crypto import Keyring, ShreddedError
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.keystore import data_keys
from crmbridge.store.schema import PROFILE_PII_COLUMNS, guest_index, profile_records, reservations
from crmbridge.testing.pytest_plugin import pg_admin_url

from .hotel_cli import GUESTS, cli, hotel_checkout, keys_url


def _open(root, url):
    return GuestStore.open(
        url, Keyring.load(root / "var" / "crmbridge.key"), upgrade=False, key_store_url=keys_url(root)
    )


def _footprint(store, source_id):
    """The guest's id, ciphertexts, blind-index values and wrapped data keys, as stored."""
    with store.engine.connect() as conn:
        rec = conn.execute(
            select(profile_records).where(profile_records.c.source_id == f"rsv:{source_id}")
        ).one()
        cts = [bytes(getattr(rec, f"{c}_ct")) for c in PROFILE_PII_COLUMNS if getattr(rec, f"{c}_ct")]
        cts.append(bytes(rec.match_ct))
        rsv = conn.execute(
            select(reservations.c.special_requests_ct).where(reservations.c.source_id == source_id)
        ).scalar()
        cts.append(bytes(rsv))
        hashes = [
            bytes(h)
            for (h,) in conn.execute(select(guest_index.c.hash).where(guest_index.c.record_id == rec.id))
        ]
    with store.key_store.engine.connect() as conn:
        wrapped = bytes(
            conn.execute(select(data_keys.c.wrapped).where(data_keys.c.id == rec.id)).scalar_one()
        )
    return rec.guest_id, rec.id, cts, hashes, wrapped


def _readable(store):
    """Per profile record of this database: True if it decrypts, False if its key is shredded."""
    out = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(profile_records)):
            try:
                for c in PROFILE_PII_COLUMNS:
                    if blob := getattr(r, f"{c}_ct"):
                        store.keyring.decrypt(
                            bytes(blob), table="profile_records", column=f"{c}_ct", row_id=r.id
                        )
                out[r.source_id] = True
            except ShreddedError:
                out[r.source_id] = False
    return out


def _replay(root, db_url, backup_url):
    live_cfg = root / "config" / "crmbridge.toml"
    cfg = root / "config" / "restored.toml"
    cfg.write_text(live_cfg.read_text().replace(f'url = "{db_url}"', f'url = "{backup_url}"'))
    res = CliRunner().invoke(app, ["privacy", "replay", "--yes", "--as", "dpo-1", "--config", str(cfg)])
    assert res.exit_code == 0 and "erased 1 guest(s) again" in res.output, res.output


def _pg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _backup(db_url, tmp_path):
    """A backup of the data database: the SQLite file copied, or pg_dump into a scratch DB."""
    if db_url.startswith("sqlite"):
        path = db_url.split("///", 1)[1]
        eng = create_engine(db_url)
        with eng.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        eng.dispose()
        shutil.copyfile(path, tmp_path / "backup.db")
        return f"sqlite:///{tmp_path / 'backup.db'}", None
    name = f"crmbridge_backup_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_admin_url().rsplit("/", 1)[0] + f"/{name}"
    dump = subprocess.run(
        ["pg_dump", "--no-owner", _pg_url(db_url)], capture_output=True, check=True, timeout=120
    )
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", _pg_url(url)],
        input=dump.stdout,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return url, (admin, name)


def _live_bytes(db_url) -> bytes:
    if db_url.startswith("sqlite"):
        path = db_url.split("///", 1)[1]
        data = Path(path).read_bytes()
        for extra in ("-wal", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                data += Path(path + extra).read_bytes()
        return data
    return subprocess.run(["pg_dump", _pg_url(db_url)], capture_output=True, check=True, timeout=120).stdout


def _contains(blob: bytes, needle: bytes) -> bool:
    # pg_dump writes bytea as \x<hex>
    return needle in blob or needle.hex().encode() in blob


def test_erasure_shreds_the_guest_in_a_backup_and_leaves_nothing_in_the_live_store(db_url, tmp_path):
    root = hotel_checkout(tmp_path, db_url)
    store = _open(root, db_url)
    gid, _, cts, hashes, wrapped = _footprint(store, "PMS-2001")
    store.close()
    backup_url, scratch = _backup(db_url, tmp_path)
    try:
        done = cli(
            root,
            "privacy",
            "erase",
            gid,
            "--reason",
            "erasure request 2026-118",
            "--yes",
            "--as",
            "dpo-1",
            "--json",
        )
        assert json.loads(done.stdout)["keys_destroyed"] == 1

        # the backup, restored beside the current key store: the erased guest cannot be read
        backup = _open(root, backup_url)
        assert _readable(backup) == {"rsv:PMS-2001": False, "rsv:PMS-2002": True, "rsv:PMS-2003": True}
        backup.close()
        # ...and replaying the erasures there deletes what came back with it
        _replay(root, db_url, backup_url)
        backup = _open(root, backup_url)
        assert _readable(backup) == {"rsv:PMS-2002": True, "rsv:PMS-2003": True}
        backup.close()

        # the live store holds none of the guest's ciphertexts or blind-index values
        live = _live_bytes(db_url)
        assert not any(_contains(live, c) for c in cts)
        assert not any(_contains(live, h) for h in hashes)
        assert "张伟".encode() not in live and b"zhang.wei.erase" not in live
        keystore_file = (root / "var" / "crmbridge-keys.db").read_bytes()
        assert wrapped not in keystore_file

        # a full re-sync of the same export: the guest stays suppressed, the others unchanged
        again = json.loads(cli(root, "sync", "--full", "--json").stdout)
        [rsv] = [r for r in again if r["stream"] == "reservations"]
        assert rsv["suppressed"] == 1 and rsv["unchanged"] == 2 and rsv["inserted"] == 0
        store = _open(root, db_url)
        with store.engine.connect() as conn:
            left = {r.source_id for r in conn.execute(select(profile_records.c.source_id))}
            assert conn.execute(select(func.count()).select_from(reservations)).scalar_one() == 2
        assert left == {"rsv:PMS-2002", "rsv:PMS-2003"}
        store.close()
    finally:
        if scratch:
            admin, name = scratch
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_erasing_an_unknown_guest_or_without_a_reason_changes_nothing(tmp_path, db_url):
    root = hotel_checkout(tmp_path, db_url)
    store = _open(root, db_url)
    gid = _footprint(store, "PMS-2002")[0]
    store.close()
    unknown = cli(
        root, "privacy", "erase", "ffffffff", "--reason", "x", "--yes", "--as", "dpo-1", check=False
    )
    assert unknown.exit_code == 2 and "no guest matches" in unknown.output
    empty = cli(root, "privacy", "erase", gid, "--reason", "  ", "--yes", "--as", "dpo-1", check=False)
    assert empty.exit_code == 2 and "reason is required" in empty.output
    not_dpo = cli(root, "privacy", "erase", gid, "--reason", "request 9", "--yes", check=False)
    assert not_dpo.exit_code == 2 and "may not privacy erase" in not_dpo.output
    declined = cli(
        root, "privacy", "erase", gid, "--reason", "request 9", "--as", "dpo-1", check=False, input="n\n"
    )
    assert declined.exit_code == 1 and "nothing was changed" in declined.output
    store = _open(root, db_url)
    assert all(_readable(store).values()) and len(_readable(store)) == 3
    store.close()


def test_the_subject_access_export_holds_every_planted_value_and_nothing_of_others(tmp_path, db_url):
    root = hotel_checkout(tmp_path, db_url)
    store = _open(root, db_url)
    gid = _footprint(store, "PMS-2002")[0]
    store.close()
    out = tmp_path / "li-na.json"
    cli(
        root,
        "privacy",
        "export",
        gid,
        "--out",
        str(out),
        "--reason",
        "access request 2026-7",
        "--as",
        "dpo-1",
    )
    text_ = out.read_text(encoding="utf-8")
    doc = json.loads(text_)
    planted = GUESTS["li"]
    for value in (
        "Na",
        "Li",
        "李娜",
        "li.na.erase@example.com",
        "+8613900139000",
        "1990-07-02",
        "310101199007020025",
        "HIGH_FLOOR",
        "延迟退房",
        "CNF-77002",
        "688.00",
        "PMS-2002",
    ):
        assert value in text_, value
    assert planted[0] == doc["records"][0]["source_id"].removeprefix("rsv:")
    for other in ("zhang", "martin"):
        for value in GUESTS[other]:
            if (
                len(value) > 4
                and value not in planted
                and not value[:4].isdigit()
                and value not in ("Checked Out", "Reserved")
            ):
                assert value not in text_, value
    audited = json.loads(cli(root, "audit", "list", "--json", "--as", "dpo-1").stdout)
    assert [(a["action"], a["guest_id"], a["reason"]) for a in audited] == [
        ("export", gid, "access request 2026-7")
    ]
