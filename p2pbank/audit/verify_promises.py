"""The outside verifier's check of signed promises (`python -m p2pbank.audit.verify
--promise FILE`).

A promise (p2pbank.audit.promises) is the log's signed word that a queued leaf will be in
the tree by a deadline. The verifier looks for a leaf with the promised content hash among
every entry it read (signed and past the checkpoint). Found and integrated by the
deadline: kept. Found later than the deadline, or not found once the deadline has passed:
broken, and that is a failure of the log. Not found before the deadline: still pending.

Standard library only, like the verifier.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path

from p2pbank.audit.note import Verifier
from p2pbank.audit.promises import Promise, promise_from_json, promise_signed_by
from p2pbank.audit.verify import Problem, Report, SourceError


def load_promises(paths: Sequence[Path]) -> list[Promise]:
    """Promises from files holding one promise (as the API serves it) or a list of them."""
    promises = []
    for path in paths:
        try:
            document = json.loads(Path(path).read_text())
            items = document if isinstance(document, list) else [document]
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("promise"), dict):
                    item = item["promise"]  # the API's answer wraps it
                promises.append(promise_from_json(item))
        except (OSError, ValueError) as exc:
            raise SourceError(f"the promise file {path}: {exc}") from exc
    return promises


def _name(promise: Promise) -> str:
    digest = base64.b64encode(promise.content_hash).decode()[:12]
    return f"promise {digest}... (queued {promise.queued_at.isoformat()})"


def check_promises(report: Report, promises: Sequence[Promise], verifier: Verifier) -> None:
    """Hold the log to each promise; a broken one is a problem of the report."""
    assert report.checkpoint is not None and report.contents is not None
    kept = pending = 0
    for promise in promises:
        if not promise_signed_by(promise, verifier):
            report.problems.append(Problem(f"{_name(promise)} is not signed by the log's key"))
            continue
        if promise.origin != report.checkpoint.origin:
            report.problems.append(
                Problem(f"{_name(promise)} is for the log {promise.origin!r}, not this one")
            )
            continue
        found = report.contents.get(promise.content_hash)
        if found is not None:
            index, integrated_at = found
            if integrated_at is not None and integrated_at > promise.integrate_by:
                report.problems.append(
                    Problem(
                        f"broken {_name(promise)}: integrated at {integrated_at.isoformat()}, "
                        f"promised by {promise.integrate_by.isoformat()}",
                        index,
                    )
                )
            else:
                kept += 1
                report.lines.append(f"{_name(promise)}: kept, it is entry {index}")
        elif report.checked_at > promise.integrate_by:
            report.problems.append(
                Problem(
                    f"broken {_name(promise)}: not in the log, promised by "
                    f"{promise.integrate_by.isoformat()}"
                )
            )
        else:
            pending += 1
            report.lines.append(
                f"{_name(promise)}: not yet in the log, due by {promise.integrate_by.isoformat()}"
            )
    report.lines.append(f"promises: {len(promises)} checked, {kept} kept, {pending} pending")
