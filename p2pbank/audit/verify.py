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
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import rfc8785

from p2pbank.audit import merkle
from p2pbank.audit.journal import JournalCheck
from p2pbank.audit.leaf_signatures import leaf_verdict
from p2pbank.audit.locate import LeafVerdict, descend, settle
from p2pbank.audit.note import Checkpoint, NoteError, Verifier, open_checkpoint, parse_vkey
from p2pbank.audit.replay import LogEvent, ReplayResult, replay

LEAF_FIELDS = frozenset({"sequence", "type", "time", "subject", "payload"})
DEFAULT_PROOFS = 64
DEFAULT_MAX_MERGE_DELAY = timedelta(seconds=60)
PAGE = 1000


class SourceError(Exception):
    """The log could not be read (network, HTTP status, malformed response)."""


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    data: bytes  # the canonical JSON the leaf hash commits to
    leaf_hash: bytes  # as the server stores it; recomputed, never trusted
    signature: bytes | None = None  # the log key's signature of the leaf, once signed
    integrated_at: datetime | None = None  # as served: when the sequencer integrated it


class LogSource(Protocol):
    def checkpoint_note(self) -> str: ...

    def entries(self, start: int, end: int) -> list[Entry]: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]: ...


@dataclass
class Problem:
    """What is wrong, and where: entry `index`, or one of the entries index..last when the
    evidence pins the damage down only to a range (`last` set)."""

    message: str
    index: int | None = None
    last: int | None = None

    def __str__(self) -> str:
        if self.index is None:
            return self.message
        if self.last is not None and self.last != self.index:
            return f"[entries {self.index}..{self.last}] {self.message}"
        return f"[entry {self.index}] {self.message}"


def first_bad(problems: Sequence[Problem]) -> tuple[int, int] | None:
    """(first, last): the first bad entry is one of first..last (first == last: exactly).

    An entry named exactly explains a range that contains it; a range that ends before the
    first exact entry comes first.
    """
    exact = min(
        (p.index for p in problems if p.index is not None and p.last in (None, p.index)),
        default=None,
    )
    earlier = [
        (p.index, p.last)
        for p in problems
        if p.index is not None
        and p.last not in (None, p.index)
        and (exact is None or p.last < exact)
    ]
    if earlier:
        return min(earlier)
    return None if exact is None else (exact, exact)


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    note: str = ""
    entries_checked: int = 0
    proofs_checked: int = 0
    replay: ReplayResult | None = None
    lines: list[str] = field(default_factory=list)
    unreadable: bool = False  # the log could not be read, so nothing could be checked
    leaf_hashes: list[bytes] = field(default_factory=list, repr=False)  # as recomputed
    events: list[LogEvent] = field(default_factory=list, repr=False)  # the signed entries
    journal: JournalCheck | None = None  # journal entries against their leaves, if checked
    max_merge_delay: timedelta = DEFAULT_MAX_MERGE_DELAY
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # content hash -> (index, integrated_at) of every entry read, when promises are checked
    contents: dict[bytes, tuple[int, datetime | None]] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        journal_ok = self.journal is None or self.journal.ok
        return self.checkpoint is not None and not self.problems and journal_ok

    @property
    def first_bad_index(self) -> int | None:
        """The first bad entry, if the evidence names it exactly."""
        found = first_bad(self.problems)
        return found[0] if found is not None and found[0] == found[1] else None

    def summary(self) -> list[str]:
        out = list(self.lines)
        if self.replay is not None:
            r = self.replay
            out.append(
                f"scores (version {r.version}): {len(r.state.members)} members, "
                f"{sum(r.events_by_type.values())} events, {r.checked} published scores "
                f"recomputed, {r.not_checked} not recomputable, {len(r.differences)} differences"
            )
        for problem in self.problems:
            out.append(f"PROBLEM {problem}")
        if self.journal is not None:
            out.extend(self.journal.lines())
            out.extend(f"PROBLEM {mismatch}" for mismatch in self.journal.mismatches)
        out.append(result_line(self))
        return out


def result_line(report: Report) -> str:
    """RESULT: OK, or FAILED naming the first bad log entry and the first bad journal entry."""
    if report.ok:
        return "RESULT: OK"
    named = []
    found = first_bad(report.problems)
    if found is not None and found[0] == found[1]:
        named.append(f"first bad index {found[0]}")
    elif found is not None:
        named.append(f"first bad index one of {found[0]}..{found[1]}")
    if report.journal is not None and report.journal.first_bad_entry is not None:
        named.append(f"first bad journal entry {report.journal.first_bad_entry}")
    return "RESULT: FAILED" + (" - " + ", ".join(named) if named else "")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise SourceError("expected a base64 string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise SourceError("malformed base64 in the response") from exc


def json_count(value: object) -> int:
    """A JSON count as the log serves it: a non-negative integer, never a string or bool
    (int() would read "\u0661" as 1, True as 1 and 1.9 as 1)."""
    if type(value) is not int or value < 0:
        raise SourceError(f"expected a non-negative integer, got {value!r:.40}")
    return value


# --- one entry ----------------------------------------------------------------------------


def parse_entry(index: int, data: bytes) -> tuple[LogEvent | None, str | None]:
    """(event, None) for a well-formed leaf numbered `index`, else (None, what is wrong)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "is not UTF-8 JSON"
    try:
        canonical = rfc8785.dumps(document)
    except Exception:  # any value canonical JSON cannot carry
        return None, "holds a value canonical JSON cannot carry"
    if canonical != data:
        return None, "is not in canonical JSON (RFC 8785)"
    if not isinstance(document, dict) or set(document) != LEAF_FIELDS:
        return None, "does not have exactly sequence, type, time, subject and payload"
    if document["sequence"] != index or type(document["sequence"]) is not int:
        return None, f"says it is entry {document['sequence']!r}"
    subject, payload = document["subject"], document["payload"]
    if not isinstance(document["type"], str) or not isinstance(payload, dict):
        return None, "has a malformed type or payload"
    if subject is not None and not isinstance(subject, str):
        return None, "has a malformed subject"
    try:
        time = datetime.fromisoformat(document["time"])
    except (TypeError, ValueError):
        return None, "has a malformed time"
    if time.tzinfo is None:
        return None, "has a time without a zone"
    return LogEvent(index, document["type"], time, subject, payload), None


def entry_timing(report: Report, entry: Entry, event: LogEvent | None) -> None:
    """The maximum merge delay for one entry, and its content hash if promises are checked:
    an entry is integrated within the delay of its time (the time it was queued)."""
    if report.contents is not None:
        from p2pbank.audit.promises import content_hash_of_leaf

        digest = content_hash_of_leaf(entry.data)
        if digest is not None:
            report.contents.setdefault(digest, (entry.index, entry.integrated_at))
    if entry.integrated_at is None or event is None:
        return
    waited = entry.integrated_at - event.time
    if waited > report.max_merge_delay:
        report.problems.append(
            Problem(
                f"integrated {waited.total_seconds():.0f} s after its time, past the maximum "
                f"merge delay of {report.max_merge_delay.total_seconds():.0f} s",
                entry.index,
            )
        )


# --- localising -------------------------------------------------------------------------


def first_bad_range(
    source: LogSource,
    hashes: Sequence[bytes],
    size: int,
    root: bytes,
    verdict: LeafVerdict | None = None,
) -> tuple[int, int]:
    """(first, last): the first local leaf the signed tree (size, root) disowns is one of
    first..last, walking down from the signed root (p2pbank.audit.locate); `verdict`, per
    entry evidence such as signed leaves, narrows a range the tree cannot."""
    proofs: dict[tuple[int, int], list[bytes] | None] = {}

    def proof(index: int, tree_size: int) -> list[bytes] | None:
        if (index, tree_size) not in proofs:
            try:
                proofs[(index, tree_size)] = source.inclusion_proof(index, tree_size)
            except SourceError:
                proofs[(index, tree_size)] = None
        return proofs[(index, tree_size)]

    first, last = descend(hashes, size, root, proof)
    if first != last and verdict is not None:
        first, last = settle(first, last, verdict)
    return first, last


def leaf_verdicts(
    verifier: Verifier, origin: str, hashes: Sequence[bytes], signatures: dict[int, bytes]
) -> LeafVerdict:
    """Per entry: does the log's signature of it verify over the recomputed leaf hash?"""

    def verdict(index: int) -> bool | None:
        return leaf_verdict(verifier, origin, index, hashes[index], signatures.get(index))

    return verdict


def first_divergence(
    source: LogSource, hashes: Sequence[bytes], size: int, root: bytes, known_good: int = 0
) -> int:
    """The first index the signed tree disowns (where the range starts if it is not exact)."""
    return first_bad_range(source, hashes, size, root)[0]


def _disowned(first: int, last: int, what: str) -> Problem:
    if first == last:
        return Problem(f"this entry differs from the one {what} holds", first)
    return Problem(
        f"one of these entries differs from {what}; the signed tree fixes only their "
        "combined hash (their stored hashes were rewritten too)",
        first,
        last,
    )


def _expected_with_ranges(hashes: Sequence[bytes], build) -> tuple[list[bytes], list[tuple]]:
    ranges: list[tuple[int, int]] = []

    def local(start: int, end: int) -> bytes:
        ranges.append((start, end))
        return merkle.root_from_leaf_hashes(hashes[start:end])

    expected = build(local)
    ranges.reverse()  # the proof generators collect from the root down, then reverse
    return expected, ranges


def wrong_node(hashes: Sequence[bytes], served: Sequence[bytes], build, what: str) -> Problem:
    """Compare a served proof with the one the local leaves give; name the wrong node."""
    expected, ranges = _expected_with_ranges(hashes, build)
    if len(served) != len(expected):
        return Problem(f"{what} has {len(served)} hashes, {len(expected)} expected")
    for got, want, (start, end) in zip(served, expected, ranges, strict=True):
        if got != want:
            return Problem(
                f"the log's stored hash of entries [{start}, {end}) is wrong ({what})", start
            )
    return Problem(f"{what} does not verify")


def spread(size: int, count: int) -> list[int]:
    """Up to `count` indices spread evenly over [0, size), first and last included."""
    if size <= 0 or count <= 0:
        return []
    if size <= count:
        return list(range(size))
    if count == 1:
        return [size - 1]
    return sorted({round(k * (size - 1) / (count - 1)) for k in range(count)})


# --- the verification -------------------------------------------------------------------


def _download(source: LogSource, size: int, report: Report) -> Iterator[Entry]:
    position = 0
    while position < size:
        page = source.entries(position, min(position + PAGE, size))
        if not page:
            report.problems.append(
                Problem(f"the log serves only {position} of the {size} signed entries", position)
            )
            return
        for entry in page:
            if entry.index != position:
                report.problems.append(
                    Problem(f"entry {position} expected, the log served {entry.index}", position)
                )
                return
            yield entry
            position += 1
            if position == size:
                return


def verify_log(
    source: LogSource,
    verifier: Verifier,
    *,
    previous: Checkpoint | None = None,
    previous_leaves: Sequence[bytes] | None = None,
    origin: str | None = None,
    proofs: int = DEFAULT_PROOFS,
    max_merge_delay: timedelta = DEFAULT_MAX_MERGE_DELAY,
    contents: bool = False,
) -> Report:
    """Every check of the module docstring against one source; never raises on bad data.

    `previous` is the checkpoint verified last time; `previous_leaves`, the leaf hashes
    verified then (optional), pinpoints any entry rewritten since, however thoroughly.
    `contents` collects every entry's content hash, to check promises against.
    """
    report = Report(max_merge_delay=max_merge_delay, contents={} if contents else None)
    try:
        report.note = source.checkpoint_note()
        checkpoint = open_checkpoint(report.note, verifier, origin)
    except SourceError as exc:
        report.unreadable = True
        report.problems.append(Problem(f"checkpoint: {exc}"))
        return report
    except NoteError as exc:
        report.problems.append(Problem(f"checkpoint: {exc}"))
        return report
    report.checkpoint = checkpoint
    size, root = checkpoint.size, checkpoint.root_hash
    report.lines.append(
        f"checkpoint: {checkpoint.origin}, {size} entries, root {b64(root)}, "
        f"signature by {verifier.name}+{verifier.key_id.hex()} OK"
    )

    hashes: list[bytes] = []
    events: list[LogEvent] = []
    signatures: dict[int, bytes] = {}
    try:
        for entry in _download(source, size, report):
            digest = merkle.leaf_hash(entry.data)
            hashes.append(digest)
            if entry.signature is not None:
                signatures[entry.index] = entry.signature
            if digest != entry.leaf_hash:
                report.problems.append(
                    Problem("the stored leaf hash differs from the entry's data", entry.index)
                )
            event, wrong = parse_entry(entry.index, entry.data)
            if wrong:
                report.problems.append(Problem(f"the entry {wrong}", entry.index))
            elif event is not None:
                events.append(event)
            entry_timing(report, entry, event)
    except SourceError as exc:
        report.unreadable = True
        report.problems.append(Problem(f"entries: {exc}"))
        return report
    report.entries_checked = len(hashes)
    report.leaf_hashes = hashes
    report.events = events
    if len(hashes) < size:
        return report

    saved = _usable_leaves(previous, previous_leaves)
    changed = next((i for i, (a, b) in enumerate(zip(saved, hashes, strict=False)) if a != b), None)
    root_ok = merkle.root_from_leaf_hashes(hashes) == root
    if root_ok:
        report.lines.append(f"entries: {size} downloaded; leaf hashes and root recomputed: OK")
    elif changed is None:
        verdict = leaf_verdicts(verifier, checkpoint.origin, hashes, signatures)
        first, last = first_bad_range(source, hashes, size, root, verdict)
        report.problems.append(_disowned(first, last, "the signed checkpoint"))

    if previous is not None:
        _check_previous(source, report, hashes, previous, checkpoint, root_ok, changed)

    if root_ok:
        _spot_check(source, report, hashes, size, root, proofs)

    report.replay = replay(events)
    for difference in report.replay.differences:
        report.problems.append(Problem(str(difference), difference.index))
    return report


def _usable_leaves(previous: Checkpoint | None, leaves: Sequence[bytes] | None) -> Sequence[bytes]:
    """The saved leaf hashes if they really are the previous checkpoint's tree, else ()."""
    if previous is None or leaves is None or len(leaves) != previous.size:
        return ()
    if merkle.root_from_leaf_hashes(leaves) != previous.root_hash:
        return ()
    return leaves


def _check_previous(source, report, hashes, previous, checkpoint, root_ok, changed):
    old, new = previous.size, checkpoint.size
    if previous.origin != checkpoint.origin:
        report.problems.append(
            Problem(f"origin changed from {previous.origin!r} to {checkpoint.origin!r}")
        )
        return
    if new < old:
        report.problems.append(Problem(f"the log shrank from {old} to {new} entries"))
        return
    if changed is not None or merkle.root_from_leaf_hashes(hashes[:old]) != previous.root_hash:
        bad = (
            changed
            if changed is not None
            else first_divergence(source, hashes, old, previous.root_hash)
        )
        report.problems.append(
            Problem(f"the entry changed since the checkpoint of {old} entries verified before", bad)
        )
        return
    try:
        proof = source.consistency_proof(old, new)
    except SourceError as exc:
        report.problems.append(Problem(f"consistency proof {old} -> {new}: {exc}"))
        return
    report.proofs_checked += 1
    if merkle.verify_consistency(old, new, previous.root_hash, checkpoint.root_hash, proof):
        report.lines.append(f"consistency with the checkpoint of {old} entries seen before: OK")
    elif root_ok:
        report.problems.append(
            wrong_node(
                hashes,
                proof,
                lambda local: merkle.consistency_proof(local, old, new),
                f"consistency proof {old} -> {new}",
            )
        )
    else:
        report.problems.append(Problem(f"consistency proof {old} -> {new} does not verify"))


def _spot_check(source, report, hashes, size, root, proofs):
    indices = spread(size, proofs)
    for index in indices:
        try:
            proof = source.inclusion_proof(index, size)
        except SourceError as exc:
            report.problems.append(Problem(f"inclusion proof: {exc}", index))
            continue
        report.proofs_checked += 1
        if not merkle.verify_inclusion(hashes[index], index, size, proof, root):
            report.problems.append(
                wrong_node(
                    hashes,
                    proof,
                    lambda local, i=index: merkle.inclusion_proof(local, i, size),
                    f"inclusion proof of entry {index}",
                )
            )
    if indices:
        report.lines.append(f"inclusion proofs: {len(indices)} checked")


# --- HTTP -------------------------------------------------------------------------------


def urllib_fetch(url: str, timeout: float) -> bytes:
    """GET `url` and return the body of a 2xx answer; SourceError otherwise."""
    request = urllib.request.Request(  # noqa: S310 - HttpSource admits http(s) URLs only
        url, headers={"Accept": "application/json", "User-Agent": "p2pbank-audit-verify"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise SourceError(f"HTTP {exc.code} from {url}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SourceError(f"cannot reach {url}: {exc}") from exc


class HttpSource:
    """The auditor API (/api/v1/audit/...) over plain HTTP.

    `fetch(url, timeout) -> body` defaults to urllib; another transport (a proxy-aware
    client, an in-process test client) can be passed in and must raise SourceError for
    anything but a 2xx answer.
    """

    def __init__(self, url: str, timeout: float = 30.0, fetch=urllib_fetch) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SourceError(f"not an http(s) URL: {url!r}")
        base = url.rstrip("/")
        if not base.endswith("/api/v1/audit"):
            base += "/api/v1/audit"
        self.base = base
        self.timeout = timeout
        self.fetch = fetch

    def _get(self, path: str, **params: int) -> dict:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        body = self.fetch(url, self.timeout)
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise SourceError(f"{url} did not answer JSON") from exc
        if not isinstance(document, dict):
            raise SourceError(f"{url} did not answer a JSON object")
        return document

    def key(self) -> str:
        vkey = self._get("/key").get("vkey")
        if not isinstance(vkey, str):
            raise SourceError("the key endpoint did not answer a vkey")
        return vkey

    def checkpoint_note(self) -> str:
        note = self._get("/checkpoint").get("note")
        if not isinstance(note, str):
            raise SourceError("the checkpoint endpoint did not answer a note")
        return note

    def entries(self, start: int, end: int) -> list[Entry]:
        items = self._get("/entries", start=start, end=end).get("entries")
        if not isinstance(items, list):
            raise SourceError("the entries endpoint did not answer a list")
        try:
            return [
                Entry(
                    json_count(e["index"]),
                    unb64(e["data"]),
                    unb64(e["leaf_hash"]),
                    None if e.get("signature") is None else unb64(e["signature"]),
                    _served_time(e.get("integrated_at")),
                )
                for e in items
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError("malformed entry in the response") from exc

    def max_merge_delay(self) -> timedelta | None:
        """The maximum merge delay the log publishes (None if it publishes none)."""
        seconds = self._get("/key").get("max_merge_delay_seconds")
        return None if seconds is None else timedelta(seconds=json_count(seconds))

    def _path(self, document: dict) -> list[bytes]:
        proof = document.get("proof")
        if not isinstance(proof, list):
            raise SourceError("the proof endpoint did not answer a list")
        return [unb64(p) for p in proof]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self._path(self._get("/proof/inclusion", index=index, size=size))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self._path(self._get("/proof/consistency", old=old_size, new=new_size))


def _served_time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a time is a string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a time without a zone")
    return moment


# --- state file ---------------------------------------------------------------------------


@dataclass
class State:
    """What the last successful run verified: the key, the checkpoint and its leaf hashes.

    The JSON file holds key and checkpoint; `<file>.leaves` holds the 32-byte leaf hashes
    of that checkpoint back to back, so a later run can name exactly which entry changed.
    """

    vkey: str | None = None
    checkpoint: Checkpoint | None = None
    note: str = ""
    leaves: list[bytes] | None = None


def _leaves_path(path: Path) -> Path:
    return path.with_name(path.name + ".leaves")


def load_state(path: Path | None) -> State:
    if path is None or not path.exists():
        return State()
    try:
        document = json.loads(path.read_text())
        checkpoint = None
        if document.get("size") is not None:
            checkpoint = Checkpoint(
                document["origin"], json_count(document["size"]), unb64(document["root_hash"])
            )
    except (ValueError, KeyError, TypeError, SourceError) as exc:
        raise SourceError(f"the state file {path} is damaged: {exc}") from exc
    leaves = None
    if _leaves_path(path).exists():
        raw = _leaves_path(path).read_bytes()
        leaves = [raw[i : i + 32] for i in range(0, len(raw) - len(raw) % 32, 32)]
    return State(document.get("vkey"), checkpoint, document.get("note", ""), leaves)


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def save_state(path: Path, vkey: str, report: Report) -> None:
    checkpoint = report.checkpoint
    assert checkpoint is not None
    document = {
        "vkey": vkey,
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root_hash": b64(checkpoint.root_hash),
        "note": report.note,
    }
    _replace(_leaves_path(path), b"".join(report.leaf_hashes[: checkpoint.size]))
    _replace(path, (json.dumps(document, indent=2) + "\n").encode())


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
