"""Estimating m/u weights from the hotel's own unlabelled pairs (expectation–maximisation).

Fellegi–Sunter with conditional independence: each candidate pair is a mixture of "match"
and "non-match"; EM alternates between the probability that each agreement pattern is a
match and the per-field level frequencies (m among matches, u among non-matches). Patterns
are counted first, so the cost depends on the number of distinct patterns, not of pairs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from .scoring import DEFAULT_WEIGHTS, LEVELS

Pattern = tuple[tuple[str, str], ...]


def estimate_weights(
    comparisons: Iterable[Mapping[str, str]],
    *,
    prior: float = 0.1,
    iterations: int = 50,
    start: Mapping[str, Mapping[str, float]] = DEFAULT_WEIGHTS,
    floor: float = 1e-4,
    u_fixed: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, dict[str, float]]:
    """log2(m/u) per field level, starting from ``start`` (whose signs orient the classes).

    ``u_fixed``: u probabilities measured on random pairs (``u_from_random_pairs``). Blocked
    pairs agree on their blocking keys by construction, so u estimated among them understates
    how rare an agreement is; with u fixed, EM estimates only m and the match share."""
    patterns = Counter(tuple(sorted(c.items())) for c in comparisons)
    if not patterns:
        return {f: dict(w) for f, w in start.items()}
    fields = sorted({f for p in patterns for f, _ in p})
    # Start: u from the levels' overall frequencies (nearly all candidate pairs are
    # non-matches), m from u tilted by the starting weights (m = u * 2^w, renormalised).
    m: dict[str, dict[str, float]] = {}
    u: dict[str, dict[str, float]] = {}
    for f in fields:
        levels = LEVELS.get(f, tuple(sorted({lv for p in patterns for g, lv in p if g == f})))
        seen = Counter({lv: 0.5 for lv in levels})
        for p, n in patterns.items():
            for g, lv in p:
                if g == f:
                    seen[lv] += n
        total_u = sum(seen.values())
        u[f] = {lv: seen[lv] / total_u for lv in levels}
        if u_fixed and f in u_fixed:
            u[f] = {lv: max(u_fixed[f].get(lv, floor), floor) for lv in levels}
        w = start.get(f, {})
        raw = {lv: u[f][lv] * 2.0 ** w.get(lv, 0.0) for lv in levels}
        total_m = sum(raw.values())
        m[f] = {lv: raw[lv] / total_m for lv in levels}
    lam = prior
    total = sum(patterns.values())
    for _ in range(iterations):
        cm: dict[str, Counter[str]] = {f: Counter() for f in fields}
        cu: dict[str, Counter[str]] = {f: Counter() for f in fields}
        matches = 0.0
        for pat, n in patterns.items():
            lm, lu = math.log(lam), math.log(1 - lam)
            for f, lv in pat:
                lm += math.log(max(m[f].get(lv, floor), floor))
                lu += math.log(max(u[f].get(lv, floor), floor))
            g = 1.0 / (1.0 + math.exp(min(lu - lm, 700.0)))
            matches += g * n
            for f, lv in pat:
                cm[f][lv] += g * n
                cu[f][lv] += (1 - g) * n
        lam = min(max(matches / total, floor), 1 - floor)
        for f in fields:
            sm, su = sum(cm[f].values()) or 1.0, sum(cu[f].values()) or 1.0
            m[f] = {lv: max(cm[f][lv] / sm, floor) for lv in m[f]}
            if not (u_fixed and f in u_fixed):
                u[f] = {lv: max(cu[f][lv] / su, floor) for lv in u[f]}
    out = {f: dict(w) for f, w in start.items()}
    for f in fields:
        out[f] = {lv: round(math.log2(m[f][lv] / u[f][lv]), 3) for lv in m[f]}
    return out


def u_from_random_pairs(
    comparisons: Iterable[Mapping[str, str]], floor: float = 1e-6
) -> dict[str, dict[str, float]]:
    """u per field level: how often two records picked at random (almost all of them two
    different guests) agree at that level."""
    counts: dict[str, Counter[str]] = {}
    for c in comparisons:
        for f, lv in c.items():
            counts.setdefault(f, Counter())[lv] += 1
    out: dict[str, dict[str, float]] = {}
    for f, cnt in counts.items():
        levels = LEVELS.get(f, tuple(cnt))
        total = sum(cnt.values()) + len(levels)  # add-one: a level never seen is rare, not impossible
        out[f] = {lv: max((cnt[lv] + 1) / total, floor) for lv in levels}
    return out
