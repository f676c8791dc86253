"""Reputation throughput; prints numbers beside their goals, asserts nothing.

Run: python benchmarks/trust.py [--members N] [--network-members N] [--network-ratings N]
     [--replay-members N] [--database URL]

1. EigenTrust on 100,000 members and 1,000,000 ratings (`reputation.eigentrust_arrays`,
   sparse), and networkx's PageRank on the same graph with the same teleport vector, same
   damping and the same stopping rule, timed in the same run; then the job's own call
   from rating objects keyed by pseudonym (`replay.network_trust`).
2. The scores job (`trust.services.recompute_trust`) for 100,000 members read from the
   database: the first run publishes every member (a log entry and a snapshot each), the
   second, with nothing changed, has nothing to do.
3. The log an auditor replays: a smaller world seeded with its trust events logged too, so
   the replay recomputes every published value from the log alone (differences: 0).

The database is PostgreSQL (database p2pbank_bench on 127.0.0.1, emptied first) when it is
reachable, else a fresh SQLite file, unless --database names another. The rows of step 2
are bulk-inserted as the services would leave them (passwords are not hashed: sign-up
speed is not what is measured here). Seeded, so runs are comparable.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from sqlalchemy import create_engine, insert, make_url, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from p2pbank import clock  # noqa: E402
from p2pbank import reputation as scores  # noqa: E402
from p2pbank.audit import replay as log_rules  # noqa: E402
from p2pbank.audit import services as audit  # noqa: E402
from p2pbank.audit.keys import derive_pseudonym_key, session_info  # noqa: E402
from p2pbank.audit.queries import entries, head_size  # noqa: E402
from p2pbank.audit.verify import parse_entry  # noqa: E402
from p2pbank.db import Base, make_engine, make_sessionmaker  # noqa: E402
from p2pbank.identity.models import User  # noqa: E402
from p2pbank.models import load_all  # noqa: E402
from p2pbank.reputation.network import local_trust  # noqa: E402
from p2pbank.trust import (
    refresh,  # noqa: E402
)
from p2pbank.trust.models import RatedTransaction, Rating, RepaymentRecord  # noqa: E402

SEED = 20261125
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
VERIFIED_SHARE = 0.3
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/p2pbank_bench"


CPU = {"last": 0.0}  # this process's CPU seconds in the last timed call


def row(label: str, seconds: float, goal: str, met: bool) -> None:
    verdict = "met" if met else "NOT MET"
    cpu = f"(cpu {CPU['last']:.3f} s)"
    print(f"  {label:<56} {seconds:8.3f} s {cpu:<16} goal {goal:<18} {verdict}")


def timed(function, *args, **kwargs):
    """Wall time, and this process's CPU time aside (the machine may be shared: a wall time
    far above the CPU time means waiting for a core or for the database)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    CPU["last"] = time.process_time() - cpu
    return result, time.perf_counter() - started


# --- 1. EigenTrust beside networkx ---------------------------------------------------------


def network_benchmark(members: int, count: int, seed: int) -> None:
    print(f"== EigenTrust on {members:,} members and {count:,} ratings")
    rng = np.random.default_rng(seed)
    raters = rng.integers(0, members, count)
    ratees = (members * rng.random(count) ** 2).astype(np.int64)  # popular members favoured
    ratees = np.where(ratees == raters, (ratees + 1) % members, ratees)
    values = rng.choice(np.array([1, 0, -1]), size=count, p=[0.9, 0.05, 0.05])
    seeds = np.sort(rng.choice(members, size=members // 20, replace=False))
    ours, elapsed = timed(scores.eigentrust_arrays, raters, ratees, values, members, seeds)
    label = f"EigenTrust {members:,} x {count:,} (sparse, from arrays)"
    row(label, elapsed, "< 0.5 s", elapsed < 0.5)
    print(
        f"    {ours.iterations} iterations (bound {scores.iteration_bound()}), "
        f"converged={ours.converged}, L1 error bound {0.85 / 0.15 * ours.residual:.1e}"
    )

    incoming, _dangling = local_trust(raters, ratees, values, members)
    weights = incoming.T.tocoo()  # row i -> column j: i trusts j this much
    graph = nx.DiGraph()
    graph.add_nodes_from(range(members))
    graph.add_weighted_edges_from(
        zip(weights.row.tolist(), weights.col.tolist(), weights.data.tolist(), strict=True)
    )
    teleport = {int(k): 1 / len(seeds) for k in seeds}
    # networkx stops when the L1 change < N * tol; ours when (1-a)/a * change < 1e-10.
    tol = 1e-10 * 0.15 / 0.85 / members
    peer, peer_elapsed = timed(
        nx.pagerank,
        graph,
        alpha=0.85,
        personalization=teleport,
        dangling=teleport,
        tol=tol,
        max_iter=1000,
        weight="weight",
    )
    faster = peer_elapsed / elapsed
    row("networkx PageRank, same graph and teleport", peer_elapsed, "EigenTrust faster", faster > 1)
    difference = float(np.abs(ours.trust - np.array([peer[k] for k in range(members)])).sum())
    _, converting = timed(nx.to_scipy_sparse_array, graph, nodelist=list(graph), weight="weight")
    print(
        f"    EigenTrust {faster:.1f}x faster; L1 difference of the results {difference:.1e}; "
        f"networkx spends {converting:.2f} s of its time turning the graph into a matrix"
    )
    del graph

    names = [f"{n:032x}" for n in rng.integers(0, 2**62, members)]
    when = NOW - timedelta(days=30)
    by_id = {
        k: scores.Rating(names[a], names[b], v, when)
        for k, (a, b, v) in enumerate(
            zip(raters.tolist(), ratees.tolist(), values.tolist(), strict=True)
        )
    }
    (network, _), elapsed = timed(
        log_rules.network_trust, by_id, [names[k] for k in seeds.tolist()]
    )
    print(
        f"  (the job's call from {count:,} rating objects keyed by pseudonym, with "
        f"percentiles: {elapsed:.2f} s, {network.iterations} iterations)"
    )


# --- 2. the scores job ---------------------------------------------------------------------


def database_url(requested: str, folder: str) -> str:
    if requested:
        return requested
    try:
        admin = create_engine(make_url(POSTGRES).set(database="postgres"))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = 'p2pbank_bench'")
            )
            if not exists:
                connection.execute(text("CREATE DATABASE p2pbank_bench"))
        admin.dispose()
        return POSTGRES
    except Exception as exc:  # noqa: BLE001 - any failure means: not reachable
        print(f"  (PostgreSQL not reachable: {type(exc).__name__}; using SQLite)")
        return f"sqlite:///{folder}/trust.sqlite3"


def open_session(url: str) -> Session:
    load_all()
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    maker = make_sessionmaker(engine)
    maker.configure(info=session_info(derive_pseudonym_key("benchmark-only-secret")))
    return maker()


def make_world(members: int, rng: random.Random) -> dict[str, list[dict]]:
    """Members, completed transactions (3 per member), both sides' ratings on 80 % of them
    (mostly positive), and monthly repayment facts for a third of the members."""
    users = [
        {
            "id": n,
            "email": f"member{n}@bench.example",
            "display_name": f"Member {n}",
            "password_hash": "not-a-hash",
            "kyc_status": "verified" if rng.random() < VERIFIED_SHARE else "unverified",
            "created_at": NOW - timedelta(days=400),
        }
        for n in range(1, members + 1)
    ]
    transactions, ratings, repayments = [], [], []
    for t in range(1, members * 3 + 1):
        principal = rng.randint(1, members)
        counterparty = rng.randint(1, members - 1)
        counterparty += counterparty >= principal
        done = NOW - timedelta(days=rng.randint(1, 360), minutes=rng.randint(0, 1440))
        transactions.append(
            {
                "id": t,
                "ref_type": "loan",
                "ref_id": t,
                "principal_id": principal,
                "counterparty_id": counterparty,
                "completed_at": done,
                "window_closes_at": done + timedelta(days=60),
                "created_at": done,
            }
        )
        if rng.random() < 0.8:
            for rater, ratee, side in (
                (counterparty, principal, "borrower"),
                (principal, counterparty, "lender"),
            ):
                given = done + timedelta(days=rng.randint(0, 10))
                ratings.append(
                    {
                        "id": len(ratings) + 1,
                        "transaction_id": t,
                        "rater_id": rater,
                        "ratee_id": ratee,
                        "ratee_side": side,
                        "value": rng.choices((1, 0, -1), weights=(88, 7, 5))[0],
                        "comment": "",
                        "status": "revealed",
                        "salt": f"{rng.getrandbits(64):016x}",
                        "submitted_at": given,
                        "revealed_at": given,
                        "hidden_note": "",
                    }
                )
    for member in range(1, members + 1, 3):
        for month in range(rng.randint(1, 12)):
            late = rng.random() < 0.05
            repayments.append(
                {
                    "user_id": member,
                    "kind": "late" if late else "on_time",
                    "days_late": rng.randint(16, 45) if late else 0,
                    "occurred_at": NOW - timedelta(days=30 * month + 1),
                    "loan_id": member,
                    "instalment_number": month + 1,
                    "event_key": f"bench:{member}:{month}",
                    "created_at": NOW,
                }
            )
    return {
        "users": users,
        "transactions": transactions,
        "ratings": ratings,
        "repayments": repayments,
    }


def input_events(session: Session, world: dict[str, list[dict]]) -> list[tuple]:
    """The trust events the services would have logged for these rows, in the payloads
    `p2pbank.audit.replay` folds (so the log alone recomputes every published score)."""
    key = audit.pseudonym_key(session)
    name = {u["id"]: audit.pseudonym_for_key(key, u["id"]) for u in world["users"]}
    when = audit.format_time
    events: list[tuple] = [
        ("kyc.verified", u["id"], {"from": "pending"})
        for u in world["users"]
        if u["kyc_status"] == "verified"
    ]
    for t in world["transactions"]:
        payload = {"counterparty": name[t["counterparty_id"]], "ref_type": "loan"}
        payload |= {
            "ref": t["ref_id"],
            "transaction": t["id"],
            "completed": when(t["completed_at"]),
        }
        events.append(("trust.transaction_completed", t["principal_id"], payload))
    for r in world["ratings"]:
        common = {
            "rating": r["id"],
            "rater": name[r["rater_id"]],
            "transaction": r["transaction_id"],
        }
        commitment = log_rules.rating_commitment(r["id"], r["value"], {}, r["salt"])
        events.append(("rating.submitted", r["ratee_id"], {**common, "commitment": commitment}))
        opened = {"value": r["value"], "details": {}, "salt": r["salt"]}
        opened["submitted"] = when(r["submitted_at"])
        events.append(("rating.revealed", r["ratee_id"], {**common, **opened}))
    for r in world["repayments"]:
        payload = {
            "kind": r["kind"],
            "days_late": r["days_late"],
            "occurred": when(r["occurred_at"]),
        }
        payload |= {"loan": r["loan_id"], "instalment": r["instalment_number"]}
        events.append(
            (log_rules.LOG_TYPE_OF_REPAYMENT[scores.EventKind(r["kind"])], r["user_id"], payload)
        )
    return events


def seed_members(
    session: Session, members: int, rng: random.Random, log_inputs: bool = False
) -> dict[str, int]:
    """Bulk-insert a world of `members`; with `log_inputs`, also its trust events."""
    world = make_world(members, rng)
    session.execute(insert(User), world["users"])
    session.execute(insert(RatedTransaction), world["transactions"])
    session.execute(insert(Rating), world["ratings"])
    session.execute(insert(RepaymentRecord), world["repayments"])
    if log_inputs:
        events = input_events(session, world)
        for start in range(0, len(events), 20_000):
            audit.append_many(session, events[start : start + 20_000])
    session.commit()
    return {name: len(rows) for name, rows in world.items()}


def backend_cpu(session: Session) -> tuple[int | None, float]:
    """The PostgreSQL server process serving this session and its CPU seconds so far (read
    from /proc: the server runs on this machine), or (None, 0.0) elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        return None, 0.0
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    return pid, _process_cpu(pid)


def _process_cpu(pid: int | None) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_job(session: Session) -> tuple[dict, float, float]:
    """The job's counts, wall seconds, and the database server's CPU seconds in it."""
    pid, before = backend_cpu(session)
    counts, elapsed = timed(refresh.recompute_trust, session)
    return counts, elapsed, _process_cpu(pid) - before if pid else 0.0


def job_benchmark(url: str, members: int, rng: random.Random) -> None:
    print(f"== the scores job for {members:,} members ({make_url(url).get_backend_name()})")
    session = open_session(url)
    counts, elapsed = timed(seed_members, session, members, rng)
    print("  data: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()) + f" ({elapsed:.0f} s)")
    clock.set_now(NOW)
    first, elapsed, database = timed_job(session)
    row(f"scores job, first run, {members:,} members", elapsed, "< 30 s", elapsed < 30)
    print(
        f"    {first['trust.members_scored']:,} scored, {first['trust.snapshots_written']:,} "
        f"published: {first['trust.members_scored'] / elapsed:,.0f} members/s; CPU: this "
        f"process {CPU['last']:.1f} s + database server {database:.1f} s"
    )
    clock.set_now(NOW + timedelta(hours=1))
    second, elapsed, database = timed_job(session)
    row("scores job, again with nothing changed", elapsed, "< 2 s", elapsed < 2)
    print(
        f"    skipped: {bool(second.get('trust.runs_skipped'))}; CPU: this process "
        f"{CPU['last']:.2f} s + database server {database:.2f} s"
    )
    session.close()
    clock.set_now(None)


def replay_log(session: Session) -> log_rules.ReplayResult:
    events = []
    size = head_size(session)
    for start in range(0, size, 1000):
        for leaf in entries(session, start, min(size, start + 1000)):
            events.append(parse_entry(leaf.sequence, bytes(leaf.data))[0])
    return log_rules.replay(events)


def replay_benchmark(url: str, members: int, rng: random.Random) -> None:
    print(f"== the benchmark's log replayed, {members:,} members with their trust events logged")
    session = open_session(url)
    seed_members(session, members, rng, log_inputs=True)
    clock.set_now(NOW)
    refresh.recompute_trust(session)
    clock.set_now(None)
    result, elapsed = timed(replay_log, session)
    print(
        f"  {head_size(session):,} entries replayed in {elapsed:.1f} s: "
        f"{result.checked:,} published values recomputed, "
        f"{len(result.differences)} differences, {result.not_checked} not checked"
    )
    session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--network-members", type=int, default=100_000)
    parser.add_argument("--network-ratings", type=int, default=1_000_000)
    parser.add_argument("--replay-members", type=int, default=2_000)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    network_benchmark(args.network_members, args.network_ratings, SEED)
    with tempfile.TemporaryDirectory(prefix="p2pbank-bench-") as folder:
        url = database_url(args.database, folder)
        job_benchmark(url, args.members, random.Random(SEED))
        replay_benchmark(url, args.replay_members, random.Random(SEED + 1))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory (whole process): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
