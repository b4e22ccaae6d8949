"""Tables of the guest store (SQLAlchemy Core). Alembic migrations mirror this file.

Every column ending in ``_ct`` holds AES-GCM ciphertext bound to (table, column, row id);
``guest_index.hash`` holds blind indexes. No other column may hold personal data.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(36)
TS = DateTime(timezone=True)
HASH = LargeBinary(32)
# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL wants BIGINT for big tables.
SERIAL = BigInteger().with_variant(Integer, "sqlite")

guests = Table(
    "guests",
    metadata,
    Column("id", ID, primary_key=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    # Set when this guest was merged into another; the row stays so unmerge can restore it.
    Column("merged_into", ID, ForeignKey("guests.id"), nullable=True, index=True),
)

# One source's view of a guest. Each PII field is its own ciphertext (field-level), and the
# row's (source, source_id, observed_at) is the provenance of every value in it.
PROFILE_PII_COLUMNS = (
    "given_name",
    "surname",
    "local_name",
    "birth_date",
    "emails",
    "phones",
    "addresses",
    "documents",
    "notes",
    "attributes",  # gender, nationality, language, memberships, preferences, consents, tags
)
profile_records = Table(
    "profile_records",
    metadata,
    Column("id", ID, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("source_id", String(128), nullable=False),
    Column("guest_id", ID, ForeignKey("guests.id"), nullable=False, index=True),
    Column("observed_at", TS, nullable=True),
    Column("content_hash", HASH, nullable=False),
    Column("ingested_at", TS, nullable=False),
    *(Column(f"{c}_ct", LargeBinary, nullable=True) for c in PROFILE_PII_COLUMNS),
    # Normalised match features (pinyin readings, E.164 phones...), encrypted like the rest:
    # scoring a candidate then costs one decryption instead of re-normalising its fields.
    Column("match_ct", LargeBinary, nullable=True),
    UniqueConstraint("source", "source_id"),
)

guest_index = Table(
    "guest_index",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("hash", HASH, nullable=False),
    Column(
        "record_id",
        ID,
        ForeignKey("profile_records.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Index("ix_guest_index_kind_hash", "kind", "hash"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("source_id", String(128), nullable=False),
    Column("hotel_code", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("channel", String(64)),
    Column("arrival", Date, nullable=False, index=True),
    Column("departure", Date, nullable=False),
    Column("room_type", String(32)),
    Column("rate_code", String(32)),
    Column("adults", Integer, nullable=False),
    Column("children", Integer, nullable=False),
    Column("total_amount", Numeric(14, 2)),
    Column("currency", String(3)),
    Column("confirmation_numbers", JSON, nullable=False),
    Column("special_requests_ct", LargeBinary),
    Column("guest_record_id", ID, ForeignKey("profile_records.id"), index=True),
    Column("source_created_at", TS),
    Column("source_updated_at", TS),
    Column("content_hash", HASH, nullable=False),
    Column("ingested_at", TS, nullable=False),
    UniqueConstraint("source", "source_id"),
)

stays = Table(
    "stays",
    metadata,
    Column("id", ID, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("source_id", String(128), nullable=False),
    Column("reservation_source_id", String(128), nullable=False, index=True),
    Column("hotel_code", String(32), nullable=False),
    Column("room_number", String(16)),
    Column("checked_in_at", TS),
    Column("checked_out_at", TS),
    Column("source_updated_at", TS),
    Column("content_hash", HASH, nullable=False),
    Column("ingested_at", TS, nullable=False),
    UniqueConstraint("source", "source_id"),
)

folio_lines = Table(
    "folio_lines",
    metadata,
    Column("id", ID, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("source_id", String(128), nullable=False),
    Column("reservation_source_id", String(128), nullable=False, index=True),
    Column("hotel_code", String(32), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("transaction_code", String(32), nullable=False),
    Column("description_ct", LargeBinary),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(128)),
    Column("source_updated_at", TS),
    Column("content_hash", HASH, nullable=False),
    Column("ingested_at", TS, nullable=False),
    UniqueConstraint("source", "source_id"),
)

# Ratings, complaints and reviews. The text is the guest's own words: ciphertext.
feedback = Table(
    "feedback",
    metadata,
    Column("id", ID, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("source_id", String(128), nullable=False),
    Column("rating", Integer),
    Column("category", String(64)),
    Column("text_ct", LargeBinary),
    Column("reservation_source", String(64)),
    Column("reservation_source_id", String(128), index=True),
    Column("stay_source_id", String(128)),
    Column("received_at", TS),
    Column("source_updated_at", TS),
    Column("content_hash", HASH, nullable=False),
    Column("ingested_at", TS, nullable=False),
    UniqueConstraint("source", "source_id"),
)

# Per (source, stream) bookmark, written in the same transaction as the batch it follows.
sync_state = Table(
    "sync_state",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("cursor", Text),
    Column("updated_at", TS, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False, index=True),
    Column("stream", String(32), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS),
    Column("status", String(16), nullable=False),  # running, ok, failed, interrupted
    Column("full", Integer, nullable=False, default=0),
    Column("fetched", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("error", Text),
    # records dropped because their guest was erased (the suppression list in the key store)
    Column("suppressed", Integer, nullable=False, default=0, server_default="0"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", ID, primary_key=True),
    Column("source", String(64), nullable=False, index=True),
    Column("stream", String(32), nullable=False),
    Column("source_id", String(128), nullable=False),
    Column("reason", Text, nullable=False),  # field names and messages only, never values
    Column("raw_ct", LargeBinary, nullable=False),
    # Keyed hash of the raw payload: the same bad record seen again is not filed twice.
    Column("raw_hash", HASH, nullable=False),
    Column("resolved_at", TS),
    Column("run_id", BigInteger),
    Column("created_at", TS, nullable=False),
    Index("ix_quarantine_source_raw_hash", "source", "stream", "raw_hash"),
)

# Audit of identity decisions: which guests were joined or split, on what evidence (agreement
# levels, score, index kinds: never values), and which records moved, so that an unmerge puts
# exactly those records back.
guest_merges = Table(
    "guest_merges",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("survivor_id", ID, nullable=False, index=True),
    Column("merged_id", ID, nullable=False, index=True),
    Column("action", String(16), nullable=False),  # merge, unmerge
    Column("evidence", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("score", Float, nullable=True),
    Column("records", JSON, nullable=True),  # profile record ids moved by this merge
    Column("undone_by", BigInteger, nullable=True),  # the unmerge row that reversed it
)

# Pairs scored between the two thresholds wait here for a person. One row per (record,
# candidate guest): a pair once decided is not asked again.
identity_reviews = Table(
    "identity_reviews",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("record_id", ID, ForeignKey("profile_records.id", ondelete="CASCADE"), nullable=False),
    Column("guest_id", ID, ForeignKey("guests.id"), nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # open, merged, rejected
    Column("created_at", TS, nullable=False),
    Column("resolved_at", TS, nullable=True),
    UniqueConstraint("record_id", "guest_id"),
    Index("ix_identity_reviews_status", "status"),
)

# Guests a person has said are different people (an unmerge, a rejected review): automatic
# matching never joins them again. Stored with guest_a < guest_b.
identity_apart = Table(
    "identity_apart",
    metadata,
    Column("guest_a", ID, ForeignKey("guests.id"), primary_key=True),
    Column("guest_b", ID, ForeignKey("guests.id"), primary_key=True, index=True),
    Column("reason", String(16), nullable=False),  # unmerge, review
    Column("created_at", TS, nullable=False),
)

# Durable inbox: messages a source hands over exactly once (OPERA business events, which the
# dequeue deletes; OTA pushes, acknowledged only once stored). Written and committed before
# anything else happens; marked done in the same transaction as the data they produced.
inbox = Table(
    "inbox",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("dedupe_key", String(200), nullable=False),
    Column("payload_ct", LargeBinary, nullable=False),
    Column("received_at", TS, nullable=False),
    Column("status", String(16), nullable=False),  # pending, done, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("processed_at", TS),
    UniqueConstraint("source", "dedupe_key"),
    Index("ix_inbox_source_status", "source", "status"),
)

# What has been pushed to each PMS: one slot per (target, PMS id, rule); the fingerprint of the
# content decides whether a push is new, unchanged or a replacement.
push_ledger = Table(
    "push_ledger",
    metadata,
    Column("id", ID, primary_key=True),
    Column("pms_source", String(64), nullable=False),
    Column("target", String(16), nullable=False),
    Column("pms_id", String(128), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("fingerprint", HASH, nullable=False),
    Column("external_id", String(128)),
    Column("status", String(16), nullable=False),  # sent, uncertain, retired, failed
    Column("detail", Text),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("pms_source", "target", "pms_id", "rule"),
)

# POS checks (restaurants, bars): totals, outlets and menu lines are not personal data; the
# free text a cashier may type (a name on the check, a note) is, and is encrypted.
pos_checks = Table(
    "pos_checks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("source_id", String(128), nullable=False),
    Column("hotel_code", String(32), nullable=False),
    Column("outlet", String(128), nullable=False),
    Column("outlet_id", String(32)),
    Column("check_number", String(32)),
    Column("business_date", Date, nullable=False, index=True),
    Column("opened_at", TS),
    Column("closed_at", TS),
    Column("room_number", String(16)),
    Column("covers", Integer),
    Column("currency", String(3), nullable=False),
    Column("total_amount", Numeric(14, 2), nullable=False),
    Column("subtotal_amount", Numeric(14, 2)),
    Column("discount_amount", Numeric(14, 2)),
    Column("service_charge_amount", Numeric(14, 2)),
    Column("tip_amount", Numeric(14, 2)),
    Column("room_charge_amount", Numeric(14, 2)),  # NULL: not charged to a room
    Column("cancelled", Integer, nullable=False, default=0),
    Column("guest_name_ct", LargeBinary),
    Column("notes_ct", LargeBinary),
    Column("source_updated_at", TS),
    Column("content_hash", HASH, nullable=False),
    Column("ingested_at", TS, nullable=False),
    UniqueConstraint("source", "source_id"),
    Index("ix_pos_checks_hotel_date_number", "hotel_code", "business_date", "check_number"),
)

# The lines of a check: menu items, discounts, service charges and tenders (kind says which).
# Rewritten whole whenever the check's content changes.
pos_items = Table(
    "pos_items",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column(
        "check_id",
        ID,
        ForeignKey("pos_checks.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("position", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # item, discount, service_charge, tender
    Column("line_id", String(32)),
    Column("parent_line_id", String(32)),
    Column("item_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("item_group", String(100)),
    Column("quantity", Numeric(12, 3), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("voided", Integer, nullable=False, default=0),
    Column("returned", Integer, nullable=False, default=0),
    Column("room_charge", Integer, nullable=False, default=0),
)

# Which stay a check belongs to, derived by the core's linker (store/pos_links.py) from PMS
# folio postings or from room and time. One row per check; "unlinked" rows keep the reason.
pos_links = Table(
    "pos_links",
    metadata,
    Column(
        "check_id",
        ID,
        ForeignKey("pos_checks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("status", String(16), nullable=False),  # linked, unlinked
    Column("method", String(16)),  # folio, stay, stay_name
    Column("confidence", Numeric(4, 3)),
    Column("reason", String(200), nullable=False),  # never holds values, only what matched
    Column("reservation_id", ID, ForeignKey("reservations.id", ondelete="SET NULL"), index=True),
    Column("folio_line_id", ID),
    Column("stay_id", ID),
    Column("check_hash", HASH, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# -- privacy and access (issue 12) -------------------------------------------------------------

# Facts about the store itself; "kcv:<key id>" rows hold the key check value of each master
# key the store was written with, so a wrong key is refused before anything is written.
store_meta = Table(
    "store_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

# Hotel staff who may use the staff API and the CLI. A revoked member keeps their row (the
# audit names them) but no token of theirs authenticates again.
staff = Table(
    "staff",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
)

# Bearer tokens: only a SHA-256 of each is stored (tokens are 256-bit random, so a plain hash
# cannot be brute-forced); the token itself is shown once, by `crmbridge staff token`.
staff_tokens = Table(
    "staff_tokens",
    metadata,
    Column("token_hash", HASH, primary_key=True),
    Column("staff_name", String(64), ForeignKey("staff.name"), nullable=False, index=True),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
)

# Who read which guest's personal data, when, which fields and why. Append-only: each row's
# `row_hash` is a keyed hash over its content and the previous row's hash, so an edited or
# deleted row breaks the chain (`crmbridge audit verify`). The reason is staff's free text,
# which may quote a guest: it is stored encrypted. Nothing else here is personal data.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    Column("staff_name", String(64), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("surface", String(16), nullable=False),  # cli, api, export
    Column("action", String(32), nullable=False),
    Column("guest_id", ID, nullable=True, index=True),
    Column("fields", JSON, nullable=False),
    Column("unmasked", Integer, nullable=False, default=0),
    Column("reason_ct", LargeBinary, nullable=True),
    Column("prev_hash", HASH, nullable=False),
    Column("row_hash", HASH, nullable=False),
)

# Consent per purpose given through crmbridge (CLI or API); consents that arrive with source
# records stay in those records' attributes. The newest statement per purpose wins.
consents = Table(
    "consents",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("guest_id", ID, ForeignKey("guests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("purpose", String(32), nullable=False),  # marketing, profiling, cross_border
    Column("granted", Integer, nullable=False),
    Column("source", String(64), nullable=False),  # e.g. cli:front-desk, api:alice
    Column("wording_version", String(64), nullable=False),
    Column("recorded_at", TS, nullable=False),
)

# Guests erased: ids and counts only, so the DPO can show a deletion happened.
erasures = Table(
    "erasures",
    metadata,
    Column("guest_id", ID, primary_key=True),
    Column("erased_at", TS, nullable=False),
    Column("records", Integer, nullable=False),
    Column("keys_destroyed", Integer, nullable=False),
)
