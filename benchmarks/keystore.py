"""The key store's cost per new record, beside the in-memory (derived) keys, in the same run.

    python benchmarks/keystore.py -n 20000 --batch 1000

Per record: create a random data key, wrap it, write it (one INSERT per batch, one commit per
batch), then encrypt the record's 11 fields under it. The baseline encrypts the same fields
under keys derived in memory (no key store).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from crmbridge.store.crypto import Keyring
from crmbridge.store.keystore import SqlKeyStore

FIELDS = 11
VALUE = "张伟 ZHANG Wei +8613800138000 zhang.wei@example.cn"


def run(ring: Keyring, n: int, batch: int, ks: SqlKeyStore | None) -> float:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    t = time.perf_counter()
    for k in range(0, n, batch):
        part = ids[k : k + batch]
        ring.data_keys.ensure(part)
        for rid in part:
            for f in range(FIELDS):
                ring.encrypt(VALUE, table="profile_records", column=f"c{f}", row_id=rid, dek=rid)
        ring.data_keys.flush()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Keyring.generate("k1")
        memory = run(base, args.n, args.batch, None)
        ring = Keyring.generate("k1")
        ks = SqlKeyStore.open(f"sqlite:///{Path(tmp) / 'keys.db'}", ring)
        ring.attach(ks)
        stored = run(ring, args.n, args.batch, ks)
        ks.close()
    print(f"{args.n:,} records x {FIELDS} fields, batches of {args.batch}")
    print(f"derived keys (baseline): {memory:6.2f} s  {args.n / memory:8,.0f} records/s")
    print(f"key store (SQLite)     : {stored:6.2f} s  {args.n / stored:8,.0f} records/s")
    print(f"key store cost per record: {(stored - memory) / args.n * 1e6:.1f} us")


if __name__ == "__main__":
    main()
