"""The scores job's work, in bulk: every member's reputation from the job's inputs, and a
snapshot plus a `score.published` entry (and `grade.changed` if so) for each member whose
shown values changed. Flushes only: `services.recompute_trust` is the command around it.

It is built for 100,000 members in one run: the inputs are read in a few queries, network
trust is one sparse computation, members' previous values come back as plain rows, and the
log entries and snapshots are written with bulk inserts (no ORM object per member).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank import reputation as score_rules
from p2pbank.audit import replay as log_rules
from p2pbank.audit import services as audit
from p2pbank.bulk_insert import insert_rows
from p2pbank.notifications.services import notify
from p2pbank.trust import queries
from p2pbank.trust.models import ScoreRun, ScoreSnapshot

SHOWN_FIELDS = queries.SHOWN_FIELDS


def snapshot_values(reputation: log_rules.Reputation, published: dict) -> dict[str, object]:
    """The snapshot's columns: the published values and the counts behind them."""
    percent = reputation.percent
    return {
        "feedback_score": published["feedback_score"],
        "star_tier": published["star_tier"],
        "positives": percent.positives,
        "neutrals": percent.neutrals,
        "negatives": percent.negatives,
        "completed": percent.completed,
        "percent_positive_bps": published["percent_positive_bps"],
        "effective_percent_positive_bps": published["effective_percent_positive_bps"],
        "repayment_expectation_bps": published["repayment_expectation_bps"],
        "trust_percentile_bps": published["trust_percentile_bps"],
        "history_months": int(reputation.history_months),
        "grade": published["grade"],
        "grade_points_bps": published["grade_points_bps"],
    }


def _changed(previous: queries.Shown | None, values: dict, reasons_json: str) -> bool:
    if previous is None or previous.score_version != score_rules.SCORE_VERSION:
        return True
    if previous.reasons_json != reasons_json:
        return True
    return previous.values != tuple(values[name] for name in SHOWN_FIELDS)


@dataclass
class Publication:
    """What one run writes: log events in order, and each snapshot row with the index of
    its `score.published` event among them."""

    events: list[tuple[str, int | None, dict]] = field(default_factory=list)
    snapshots: list[tuple[int, dict]] = field(default_factory=list)
    grades_changed: int = 0


def _publish(
    publication: Publication,
    user_id: int,
    reputation: log_rules.Reputation,
    previous: queries.Shown | None,
    as_of: str,
) -> None:
    """Add the member's entries and snapshot if something shown changed."""
    scores = reputation.published()
    values = snapshot_values(reputation, scores)
    reasons = reputation.grade.reasons
    reasons_json = queries.dump_reasons(reasons)
    if not _changed(previous, values, reasons_json):
        return
    version = score_rules.SCORE_VERSION
    row = {"user_id": user_id, "reasons_json": reasons_json, **values}
    publication.snapshots.append((len(publication.events), row))
    published = {"score_version": version, "as_of": as_of, "scores": scores}
    publication.events.append(("score.published", user_id, published))
    before = previous.grade if previous is not None else None
    if before != values["grade"]:
        publication.grades_changed += 1
        change = {"from": before, "to": values["grade"], "score_version": version}
        change["reasons"] = list(reasons)
        publication.events.append(("grade.changed", user_id, change))


def _tell_grade_changes(session: Session, publication: Publication) -> None:
    """A member whose published grade moved hears it (not a first grade: nothing moved)."""
    for kind, user_id, change in publication.events:
        if kind == "grade.changed" and user_id is not None and change["from"] is not None:
            params = {"old": change["from"], "new": change["to"]}
            notify(session, user_id, "grade_changed", params, f"/trust/members/{user_id}")


def score_members(
    session: Session, moment: datetime, revealed: int, inputs_through: int
) -> dict[str, int]:
    """Score every member as of `moment` and publish what changed (flush only)."""
    inputs = queries.score_inputs(session)
    network, percentiles = log_rules.network_trust(inputs.ratings_by_id, inputs.pretrusted)
    run = ScoreRun(
        as_of=moment,
        score_version=score_rules.SCORE_VERSION,
        ratings_revealed=revealed,
        network_members=len(network.trust),
        eigentrust_iterations=network.iterations,
        eigentrust_converged=network.converged,
        inputs_through=inputs_through,
        created_at=clock.now(),
    )
    session.add(run)
    session.flush()
    latest = queries.latest_shown(session)
    received: dict[str, list[score_rules.Rating]] = defaultdict(list)
    for rating in inputs.ratings_by_id.values():
        received[str(rating.ratee_id)].append(rating)
    as_of = audit.format_time(moment)
    publication = Publication()
    for user_id in sorted(inputs.members):
        pseudonym = inputs.pseudonyms[user_id]
        reputation = log_rules.reputation(
            pseudonym,
            received.get(pseudonym, ()),
            inputs.completed.get(pseudonym, ()),
            inputs.repayments.get(pseudonym, ()),
            percentiles.get(pseudonym, 0.0),
            moment,
        )
        _publish(publication, user_id, reputation, latest.get(user_id), as_of)
    sequences = audit.append_many(session, publication.events, inputs.pseudonyms)
    common = {"run_id": run.id, "as_of": moment, "score_version": score_rules.SCORE_VERSION}
    rows = [{**common, **row, "log_sequence": sequences[k]} for k, row in publication.snapshots]
    insert_rows(session, ScoreSnapshot.__table__, rows)
    run.members_scored = len(inputs.members)
    run.snapshots_written = len(rows)
    run.grades_changed = publication.grades_changed
    _tell_grade_changes(session, publication)
    session.flush()
    return {
        "trust.ratings_revealed": revealed,
        "trust.members_scored": len(inputs.members),
        "trust.snapshots_written": len(rows),
        "trust.grades_changed": publication.grades_changed,
    }
