"""Estimating the hotel's own m/u weights from its stored records (no labels needed).

u comes from random pairs of records (almost all two different guests); m and the match share
come from EM over the blocked candidate pairs, the pairs the matcher actually scores.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence

from sqlalchemy import Connection, select

from ..store.crypto import Keyring
from ..store.schema import profile_records
from .blocking import blocking_keys
from .em import estimate_weights, u_from_random_pairs
from .features import MatchFeatures
from .keys import IdentityPolicy
from .scoring import LEVELS, compare


def estimate_from_features(
    feats: Sequence[MatchFeatures],
    start: Mapping[str, Mapping[str, float]],
    *,
    max_bucket: int = 200,
    random_pairs: int = 20_000,
    seed: int = 1,
) -> dict[str, dict[str, float]]:
    buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, f in enumerate(feats):
        for k in blocking_keys(f):
            buckets[k].append(i)
    seen: set[tuple[int, int]] = set()
    vectors = []
    for members in buckets.values():
        if len(members) > max_bucket:
            continue
        for pair in itertools.combinations(members, 2):
            if pair not in seen:
                seen.add(pair)
                vectors.append(compare(feats[pair[0]], feats[pair[1]]))
    n = len(feats)
    if n < 2 or not vectors:
        return {f: dict(w) for f, w in start.items()}
    rng = random.Random(seed)
    u = u_from_random_pairs(
        compare(feats[rng.randrange(n)], feats[rng.randrange(n)]) for _ in range(random_pairs)
    )
    prior = min(0.5, max(0.001, n / len(vectors) / 2))
    estimated = estimate_weights(vectors, prior=prior, iterations=40, u_fixed=u, start=start)
    # Fields the data never compares (no e-mails at all, say) keep their starting weights.
    return {f: {**start.get(f, {}), **estimated.get(f, {})} for f in LEVELS}


def stored_features(conn: Connection, keyring: Keyring, policy: IdentityPolicy) -> Iterator[MatchFeatures]:
    from .resolver import _FEATURE_COLUMNS, decrypt_features

    for row in conn.execute(select(*_FEATURE_COLUMNS).order_by(profile_records.c.id)):
        yield decrypt_features(keyring, row, policy)


def weights_toml(weights: Mapping[str, Mapping[str, float]]) -> str:
    lines = ["[identity.weights]"]
    for f in LEVELS:
        if f in weights:
            body = ", ".join(f"{lv} = {weights[f][lv]:.2f}" for lv in LEVELS[f] if lv in weights[f])
            lines.append(f"{f} = {{ {body} }}")
    return "\n".join(lines)
