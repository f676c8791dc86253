"""The trust log's hot paths, at 100,000 leaves.

1. Appends per second through `p2pbank.audit.services.append` (lock the head row, canonical
   JSON, leaf hash, the perfect nodes the leaf completes, head update, flush), committed in
   batches of --batch appends, on SQLite and on PostgreSQL. Half the leaves carry a member
   pseudonym (an HMAC per append).
2. Inclusion and consistency proofs at that size: generated from storage
   (`queries.inclusion` / `queries.consistency`: two or three statements each) and verified
   (`merkle.verify_inclusion` / `verify_consistency`), microseconds each.
3. In memory, the same leaves into `merkle.CompactRange` and into `pymerkle.InmemoryTree`
   (a peer implementation of the same RFC 6962/9162 tree): append rate, and the two roots,
   which must be equal, compared with the root signed from the database.

Every run gets a fresh database: a temporary SQLite file, and a temporary PostgreSQL
database on BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
dropped after. Prints numbers, asserts only that the roots agree.

    python benchmarks/trust_log.py [--leaves 100000] [--batch 1000] [--proofs 2000]
                                   [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymerkle import InmemoryTree  # noqa: E402
from sqlalchemy import make_url, select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from p2pbank.audit import merkle, note, queries, services  # noqa: E402
from p2pbank.audit.keys import derive_pseudonym_key, session_info  # noqa: E402
from p2pbank.audit.models import LogLeaf  # noqa: E402
from p2pbank.db import Base, make_engine  # noqa: E402
from p2pbank.models import load_all  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
SIGNER = note.generate_signer("bench.p2pbank.example/trust-log")


# --- databases ------------------------------------------------------------------------------


def _sqlite_url() -> str:
    folder = tempfile.mkdtemp(prefix="p2pbank-bench-")
    return f"sqlite:///{folder}/bench.sqlite3"


def _postgres_admin():
    import psycopg

    url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG)
    try:
        return url, psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); skipping it")
        return url, None


# --- measurements ---------------------------------------------------------------------------


def _micros(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"median {statistics.median(ordered) * 1e6:8.1f} µs   p99 {p99 * 1e6:8.1f} µs"


def bench_database(
    label: str, url: str, leaves: int, batch: int, proofs: int
) -> tuple[bytes, list[bytes]]:
    """Append, sign, prove; returns the signed root and the leaves' data as stored."""
    load_all()
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    make_session = sessionmaker(
        bind=engine,
        expire_on_commit=False,
        info=session_info(derive_pseudonym_key("benchmark-secret")),
    )
    print(f"== {label}")
    with make_session() as session:
        started = time.perf_counter()
        for done in range(0, leaves, batch):
            for n in range(done, min(done + batch, leaves)):
                services.append(
                    session,
                    type="bench.event",
                    subject_user_id=n % 5000 if n % 2 else None,
                    payload={"n": n, "kind": "benchmark"},
                )
            session.commit()
            session.expunge_all()  # a real command's session holds only its own rows
        elapsed = time.perf_counter() - started
        rate = leaves / elapsed
        print(
            f"append      {leaves:>9,} leaves in {elapsed:7.2f} s = {rate:9,.0f} leaves/s", end=""
        )
        print(f"  (commit every {batch})")

        checkpoint = services.sign_checkpoint(session, SIGNER, SIGNER.name)
        rng = random.Random(7)
        size = checkpoint.tree_size
        root = checkpoint.root_hash

        generate, check = [], []
        for _ in range(proofs):
            index = rng.randrange(size)
            t0 = time.perf_counter()
            proof = queries.inclusion(session, index, size)
            t1 = time.perf_counter()
            ok = merkle.verify_inclusion(proof.leaf_hash, index, size, proof.path, root)
            t2 = time.perf_counter()
            assert ok
            generate.append(t1 - t0)
            check.append(t2 - t1)
        print(f"inclusion   generate {_micros(generate)}   ({len(proof.path)} hashes)")
        print(f"            verify   {_micros(check)}")

        generate, check = [], []
        for _ in range(proofs):
            old = rng.randrange(1, size)
            t0 = time.perf_counter()
            proof = queries.consistency(session, old, size)
            t1 = time.perf_counter()
            ok = merkle.verify_consistency(old, size, proof.old_root, root, proof.path)
            t2 = time.perf_counter()
            assert ok
            generate.append(t1 - t0)
            check.append(t2 - t1)
        print(f"consistency generate {_micros(generate)}   ({len(proof.path)} hashes)")
        print(f"            verify   {_micros(check)}")
        rows = session.execute(select(LogLeaf.data).order_by(LogLeaf.sequence))
        leaf_data = [bytes(d) for (d,) in rows]
    engine.dispose()
    return root, leaf_data


def bench_memory(leaf_data: list[bytes], signed_root: bytes) -> None:
    print("== in memory, the same leaves")
    started = time.perf_counter()
    compact = merkle.CompactRange()
    for data in leaf_data:
        compact.append(merkle.leaf_hash(data))
    ours = time.perf_counter() - started

    started = time.perf_counter()
    tree = InmemoryTree(algorithm="sha256")
    for data in leaf_data:
        tree.append_entry(data)
    peer = time.perf_counter() - started

    count = len(leaf_data)
    print(f"CompactRange      {count / ours:11,.0f} leaves/s  (hash + append)")
    print(f"pymerkle          {count / peer:11,.0f} leaves/s  (InmemoryTree.append_entry)")
    print(f"ratio             {peer / ours:11.1f} x")
    roots = {"CompactRange": compact.root(), "pymerkle": tree.get_root(), "signed": signed_root}
    same = len(set(roots.values())) == 1
    print(f"roots equal       {same}  ({compact.root().hex()[:16]}...)")
    assert same, {name: root.hex() for name, root in roots.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    root, leaf_data = bench_database("SQLite", _sqlite_url(), args.leaves, args.batch, args.proofs)
    if not args.no_postgres:
        base, admin = _postgres_admin()
        if admin is not None:
            name = f"p2pbank_bench_{os.getpid()}_{secrets.token_hex(3)}"
            admin.execute(f'CREATE DATABASE "{name}"')
            try:
                url = make_url(base).set(database=name).render_as_string(hide_password=False)
                bench_database("PostgreSQL", url, args.leaves, args.batch, args.proofs)
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()
    bench_memory(leaf_data, root)  # the very bytes SQLite stored, so the roots must agree


if __name__ == "__main__":
    main()
