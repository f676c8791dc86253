"""Independent verifier of the trust log, for auditors outside the platform.

    python -m p2pbank.audit.verify --url https://p2pbank.example [--state FILE] [--key VKEY]
                                   [--token AUDITOR_API_TOKEN]

It trusts nothing the server says except what the log's Ed25519 key signed, and needs only
HTTP (urllib) and that public key:

1. fetch the latest checkpoint (a C2SP signed note) and check its signature;
2. download every entry of that checkpoint, recompute each leaf hash from the entry's
   canonical JSON, check the JSON is canonical and numbered in sequence, and recompute the
   root; if it differs from the signed root, name the first bad entry: the first whose
   hash differs from the one verified last time (saved next to the state file), else the
   one found walking down from the signed root through the server's inclusion proofs
   (p2pbank.audit.locate), exact unless the server's stored hashes were rewritten too,
   and then the smallest range the signed tree pins down;
3. check the log is an append-only extension of the checkpoint seen last time (kept in the
   state file): same origin and key, not smaller, the same first entries, and a valid
   consistency proof;
4. check inclusion proofs for up to --proofs entries (all of them in a small log), which
   exercises the server's stored nodes; a wrong node is named by the entries it covers;
5. replay the events to recompute members' scores with p2pbank.reputation and report any
   score the platform published that differs (see p2pbank.audit.replay);
6. check the entries past the checkpoint as far as they can be (p2pbank.audit.tail) and,
   with --token (an auditor's API token), recompute every journal entry's content hash and
   compare it with its leaf, naming the first entry that differs (p2pbank.audit.verify_journal).

Exit status 0 only if all of that holds (then the state file is updated), 1 if something
does not, 2 if the log could not be read. Without --key the key stored in the state file
is used; on the very first run the key the server publishes is trusted and pinned, so pass
--key with a key obtained out of band to rule out a man in the middle.

The checks live in modules of their own, re-exported here: fetching
(p2pbank.audit.verify_source), single entries and the merge delay (verify_entries), the
signed checkpoint (verify_checkpoint), proofs (verify_proofs), the findings
(verify_report) and the state file (verify_state).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from p2pbank.audit.note import NoteError, parse_vkey
from p2pbank.audit.verify_checkpoint import DEFAULT_PROOFS, verify_log
from p2pbank.audit.verify_entries import LEAF_FIELDS, PAGE, download, entry_timing, parse_entry
from p2pbank.audit.verify_proofs import (
    first_bad_range,
    first_divergence,
    leaf_verdicts,
    spread,
    wrong_node,
)
from p2pbank.audit.verify_report import (
    DEFAULT_MAX_MERGE_DELAY,
    Problem,
    Report,
    first_bad,
    result_line,
)
from p2pbank.audit.verify_source import (
    Entry,
    HttpSource,
    LogSource,
    SourceError,
    b64,
    json_count,
    unb64,
    urllib_fetch,
)
from p2pbank.audit.verify_state import State, load_state, save_state

__all__ = [
    "DEFAULT_MAX_MERGE_DELAY",
    "DEFAULT_PROOFS",
    "LEAF_FIELDS",
    "PAGE",
    "Entry",
    "HttpSource",
    "LogSource",
    "Problem",
    "Report",
    "SourceError",
    "State",
    "b64",
    "download",
    "entry_timing",
    "first_bad",
    "first_bad_range",
    "first_divergence",
    "json_count",
    "leaf_verdicts",
    "load_state",
    "main",
    "parse_entry",
    "result_line",
    "run",
    "save_state",
    "spread",
    "unb64",
    "urllib_fetch",
    "verify_log",
    "wrong_node",
]


def _read_key(value: str) -> str:
    candidate = Path(value)
    if "+" not in value and candidate.is_file():
        return candidate.read_text().strip()
    return value.strip()


def _check_beyond(source: LogSource, report: Report, journal, promises, verifier) -> None:
    """The entries past the checkpoint, given a journal source the journal entries, and
    the promises given."""
    if report.checkpoint is None or report.unreadable:
        return
    from p2pbank.audit.tail import check_tail  # these modules build on this one
    from p2pbank.audit.verify_journal import verify_journal
    from p2pbank.audit.verify_promises import check_promises

    tail, end = check_tail(source, report)
    if journal is not None:
        verify_journal(source, report, journal, tail, end)
    if promises:
        check_promises(report, promises, verifier)


def run(
    source: LogSource,
    *,
    key: str | None,
    state_path: Path | None,
    proofs: int = DEFAULT_PROOFS,
    fetch_key=None,
    journal=None,
    promises=(),
    max_merge_delay: timedelta = DEFAULT_MAX_MERGE_DELAY,
) -> tuple[int, list[str]]:
    """Resolve the key, verify, update the state: (exit status, report lines).

    `journal`: a p2pbank.audit.verify_journal.JournalSource (an auditor's token) to check
    every journal entry against its leaf as well; `promises`: signed promises of inclusion
    (p2pbank.audit.promises) to hold the log to."""
    lines: list[str] = []
    try:
        state = load_state(state_path)
    except SourceError as exc:
        return 2, [str(exc)]
    vkey = key or state.vkey
    if vkey is None:
        if fetch_key is None:
            return 2, ["no verification key: pass --key"]
        try:
            vkey = fetch_key()
        except SourceError as exc:
            return 2, [f"cannot fetch the log's key: {exc}"]
        lines.append(f"WARNING trusting the key the log publishes on first use: {vkey}")
    if state.vkey is not None and vkey != state.vkey:
        return 1, [
            *lines,
            "PROBLEM the key differs from the one in the state file",
            "RESULT: FAILED",
        ]
    try:
        verifier = parse_vkey(vkey)
    except NoteError as exc:
        return 2, [f"bad key: {exc}"]
    report = verify_log(
        source,
        verifier,
        previous=state.checkpoint,
        previous_leaves=state.leaves,
        proofs=proofs,
        max_merge_delay=max_merge_delay,
        contents=bool(promises),
    )
    _check_beyond(source, report, journal, promises, verifier)
    lines.extend(report.summary())
    if report.ok and state_path is not None and report.checkpoint is not None:
        save_state(state_path, vkey, report)
        lines.append(f"state saved to {state_path}")
    if report.ok:
        return 0, lines
    return (2 if report.unreadable else 1), lines


def _journal_source(args):
    if not args.token:
        return None
    from p2pbank.audit.verify_journal import JournalSource

    return JournalSource(args.url, _read_key(args.token), timeout=args.timeout)


def _promises(paths: Sequence[Path]) -> list:
    from p2pbank.audit.verify_promises import load_promises

    return load_promises(paths)


def _merge_delay(source: HttpSource, seconds: int | None) -> timedelta:
    if seconds is not None:
        if seconds < 0:
            raise SourceError("--max-merge-delay is a number of seconds")
        return timedelta(seconds=seconds)
    try:
        published = source.max_merge_delay()
    except SourceError:
        published = None
    return published or DEFAULT_MAX_MERGE_DELAY


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m p2pbank.audit.verify",
        description="Verify p2pbank's trust log from its public API and signing key.",
    )
    parser.add_argument("--url", required=True, help="the platform's base URL")
    parser.add_argument("--state", type=Path, help="JSON file remembering the last checkpoint")
    parser.add_argument("--key", help="the log's verifier key (name+id+key) or a file with it")
    parser.add_argument(
        "--proofs",
        type=int,
        default=DEFAULT_PROOFS,
        help="inclusion proofs to check (default %(default)s)",
    )
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument(
        "--token",
        help="an auditor's API token (or a file with it): also recompute every journal "
        "entry's hash and prove it against its leaf",
    )
    parser.add_argument(
        "--promise",
        action="append",
        type=Path,
        default=[],
        help="a file with a signed promise of inclusion the log gave (repeatable): "
        "fail if the log broke it",
    )
    parser.add_argument(
        "--max-merge-delay",
        type=int,
        help="seconds within which a queued entry must be in the log "
        "(default: what the log publishes, else 60)",
    )
    args = parser.parse_args(argv)
    try:
        source = HttpSource(args.url, timeout=args.timeout)
        journal = _journal_source(args)
        promises = _promises(args.promise)
        delay = _merge_delay(source, args.max_merge_delay)
    except SourceError as exc:
        print(exc, file=sys.stderr)
        return 2
    status, lines = run(
        source,
        key=_read_key(args.key) if args.key else None,
        state_path=args.state,
        proofs=args.proofs,
        fetch_key=source.key,
        journal=journal,
        promises=promises,
        max_merge_delay=delay,
    )
    for line in lines:
        print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
