"""The hotel's identity policy, and the keys a record can be matched on.

Only blocking keys ever reach the database, and only as keyed HMACs (``guest_index``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..config import IdentityConfig
from ..models import GuestProfile
from .blocking import blocking_keys
from .features import MatchFeatures, features_of
from .identifiers import DEFAULT_RELAY_DOMAINS, DEFAULT_VIRTUAL_PREFIXES
from .identifiers import normalise_email as normalise_email  # re-exported for older callers
from .scoring import DEFAULT_WEIGHTS, Scorer, Thresholds


@dataclass(frozen=True)
class IdentityPolicy:
    # ID numbers are collected for police registration (PIPL 13(3)); matching on them is a
    # separate purpose that the hotel must have a basis for, so it is off by default.
    match_on_documents: bool = False
    review_threshold: float = 11.0
    merge_threshold: float = 15.0
    weights: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: MappingProxyType(DEFAULT_WEIGHTS)
    )
    # Which source's value is shown when records disagree (higher wins; recency breaks ties).
    source_trust: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    relay_email_domains: tuple[str, ...] = DEFAULT_RELAY_DOMAINS
    # OTA privacy-number ranges (E.164 prefixes): such a number is never identity evidence
    virtual_phone_prefixes: tuple[str, ...] = DEFAULT_VIRTUAL_PREFIXES
    # A blocking key shared by more records than this is not selective enough to be worth
    # comparing (a placeholder e-mail typed by a front desk for every walk-in).
    max_bucket: int = 200
    given_name_veto: bool = True

    def scorer(self) -> Scorer:
        return Scorer(
            self.weights, Thresholds(self.review_threshold, self.merge_threshold), self.given_name_veto
        )

    def features(self, profile: GuestProfile) -> MatchFeatures:
        return features_of(
            profile,
            match_on_documents=self.match_on_documents,
            relay_domains=self.relay_email_domains,
            virtual_prefixes=self.virtual_phone_prefixes,
        )


def policy_from_config(identity: IdentityConfig, match_on_documents: bool) -> IdentityPolicy:
    weights = {f: {**levels, **identity.weights.get(f, {})} for f, levels in DEFAULT_WEIGHTS.items()}
    return IdentityPolicy(
        match_on_documents=match_on_documents,
        review_threshold=identity.review_threshold,
        merge_threshold=identity.merge_threshold,
        weights=MappingProxyType(weights),
        source_trust=MappingProxyType(dict(identity.source_trust)),
        relay_email_domains=DEFAULT_RELAY_DOMAINS + tuple(d.lower() for d in identity.relay_email_domains),
        virtual_phone_prefixes=DEFAULT_VIRTUAL_PREFIXES + tuple(identity.virtual_phone_prefixes),
        max_bucket=identity.max_bucket,
        given_name_veto=identity.given_name_veto,
    )


def identity_keys(profile: GuestProfile, policy: IdentityPolicy) -> list[tuple[str, str]]:
    """The (kind, normalised value) pairs a profile is indexed under."""
    return blocking_keys(policy.features(profile))
