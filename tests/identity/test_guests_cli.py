"""`crmbridge guests`, `guests show`, `guests review` and `guests unmerge` as staff use them."""

from __future__ import annotations

import json
import tomllib

from typer.testing import CliRunner

from crmbridge.cli.app import app
from crmbridge.config import load_config
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore

from ..test_cli import project
from .guests import ctrip_zhang_wei, opera_zhang_wei, other_zhang_wei, profile


def cli(*args: str, cwd, check: bool = True):
    """In-process (a subprocess per command would add seconds each); same exit codes."""
    result = CliRunner().invoke(app, [*args, "--config", str(cwd / "config" / "crmbridge.toml")])
    if check and result.exit_code != 0:
        raise AssertionError(f"crmbridge {' '.join(args)} exited {result.exit_code}:\n{result.output}")
    result.returncode = result.exit_code
    return result


def _hotel(tmp_path):
    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", csv_rows=0)
    store = GuestStore.open(
        f"sqlite:///{tmp_path / 'store.db'}", Keyring.load(root / "var" / "crmbridge.key")
    )
    addr = [{"lines": ["88 Century Avenue"], "city": "Shanghai", "postal_code": "200120"}]
    for batch in (
        [opera_zhang_wei(), other_zhang_wei()],
        [ctrip_zhang_wei()],
        [profile("opera", "A-1", local_name="周杰", addresses=addr)],
        [profile("web", "W-1", given_name="Jie", surname="Zhou", addresses=addr)],
    ):
        with store.transaction() as w:
            w.upsert_profiles(batch)
    store.close()
    return root


def test_guests_json_lists_linked_records_with_pii_masked(tmp_path):
    root = _hotel(tmp_path)
    out = cli("guests", "--json", cwd=root).stdout
    views = json.loads(out)
    linked = [v for v in views if len(v["records"]) == 2]
    assert [{(r["source"], r["source_id"]) for r in v["records"]} for v in linked] == [
        {("opera", "OP-1"), ("ctrip", "CT-1")}
    ]
    assert "张伟" not in out and "13800138000" not in out and "+86138****8000" in out


def test_guests_show_gives_provenance_and_the_merge_history(tmp_path):
    root = _hotel(tmp_path)
    views = json.loads(cli("guests", "--json", cwd=root).stdout)
    [gid] = [v["guest_id"] for v in views if len(v["records"]) == 2]
    shown = json.loads(cli("guests", "show", gid[:8], "--json", cwd=root).stdout)
    assert {p["from"] for p in shown["provenance"]["phones"]} == {"opera/OP-1", "ctrip/CT-1"}
    [merge] = shown["history"]
    assert merge["action"] == "merge" and merge["evidence"]["survivor"]["agreements"]["phone"] == "exact"
    assert "ZHANG" not in json.dumps(shown)


def test_guests_show_includes_the_segment_and_its_tags(tmp_path):
    root = _hotel(tmp_path)
    gid = json.loads(cli("guests", "--json", cwd=root).stdout)[0]["guest_id"]
    seg = json.loads(cli("guests", "show", gid, "--json", cwd=root).stdout)["segment"]
    assert seg["value_tier"] in {"A", "B", "C"} and f"value:{seg['value_tier']}" in seg["tags"]
    assert len(seg["rfm"]) == 3


def test_guests_review_lists_the_queue_and_resolves_an_item(tmp_path):
    root = _hotel(tmp_path)
    [item] = json.loads(cli("guests", "review", "--json", cwd=root).stdout)
    assert item["record"] == "web/W-1" and item["agreements"]["surname"] == "exact"
    cli("guests", "review", str(item["item"]), "--merge", cwd=root)
    assert json.loads(cli("guests", "review", "--json", cwd=root).stdout) == []
    again = cli("guests", "review", str(item["item"]), "--apart", cwd=root, check=False)
    assert again.returncode == 2 and "already merged" in again.stderr


def test_guests_unmerge_splits_the_records_back(tmp_path):
    root = _hotel(tmp_path)
    views = json.loads(cli("guests", "--json", cwd=root).stdout)
    [gid] = [v["guest_id"] for v in views if len(v["records"]) == 2]
    [merge] = json.loads(cli("guests", "show", gid, "--json", cwd=root).stdout)["history"]
    res = json.loads(cli("guests", "unmerge", merge["merged"], "--json", cwd=root).stdout)
    assert res["records"] == 1 and res["survivor"] == gid
    after = json.loads(cli("guests", "--json", cwd=root).stdout)
    assert all(len(v["records"]) == 1 for v in after)
    nothing = cli("guests", "unmerge", merge["merged"], cwd=root, check=False)
    assert nothing.returncode == 2 and "no merge to undo" in nothing.stderr


def test_guests_weights_estimates_a_weights_table_the_config_accepts(tmp_path):
    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", csv_rows=0)
    store = GuestStore.open(
        f"sqlite:///{tmp_path / 'store.db'}", Keyring.load(root / "var" / "crmbridge.key")
    )
    surnames, givens = "王李张刘陈杨黄赵吴周", "伟芳娜敏静丽强磊军洋勇艳"
    batch = []
    for i in range(120):
        han = surnames[i % 10] + givens[(i * 7) % 12] + givens[i % 12]
        phone = f"139{i:08d}"
        batch.append(profile("ctrip", f"C-{i}", local_name=han, phones=[phone]))
        batch.append(profile("opera", f"O-{i}", local_name=han, phones=[phone], birth_date="1980-01-01"))
    with store.transaction() as w:
        w.upsert_profiles(batch)
    store.close()
    printed = cli("guests", "weights", cwd=root).output
    table = printed[printed.index("[identity.weights]") :]
    weights = tomllib.loads(table)["identity"]["weights"]
    assert weights["phone"]["exact"] > 0 > weights["surname"]["differ"]
    cfg = root / "config" / "crmbridge.toml"
    cfg.write_text(cfg.read_text() + "\n" + table + "\n")
    assert load_config(cfg).identity.weights["phone"]["exact"] == weights["phone"]["exact"]
