"""The scores job: recompute everyone's reputation from the trust log when new input
arrived, or once a day, and publish the snapshots the grades are read from.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank import reputation as score_rules
from p2pbank.audit import sequencer
from p2pbank.audit import services as audit
from p2pbank.trust import queries, scoring
from p2pbank.trust.services import iso_moment, reveal_due
from p2pbank.uow import command

# Without new inputs, scores still move with time (twelve-month windows, forgetting, the
# length of history), so a full run happens at least this often; in between, a run that
# finds no new trust event since the last one has nothing to do.
REFRESH_AFTER = timedelta(hours=24)


def _up_to_date(session: Session, moment: datetime, inputs_through: int) -> bool:
    last = queries.latest_run(session)
    return (
        last is not None
        and last.score_version == score_rules.SCORE_VERSION
        and last.inputs_through == inputs_through
        and last.as_of <= moment < last.as_of + REFRESH_AFTER
    )


def recompute_trust(session: Session, now: datetime | None = None) -> dict[str, int]:
    """The scores job: reveal due ratings, compute network trust (EigenTrust over the shown
    ratings, KYC-verified members pre-trusted) and every active member's scores and grade
    as of `now`; store and publish a snapshot where something shown changed, and log grade
    changes. Skipped (nothing logged) when no trust event came since the last run, within
    REFRESH_AFTER of it. Returns counts for the job report."""
    # Repayment facts reach the log through its queue; integrate what is queued first so
    # this run counts them (a fact still queued, e.g. while another sequencer runs, is
    # left for the next run: the scores count only what the log holds).
    sequencer.integrate_queued(session, clock.now())
    with command(session):
        moment = now or clock.now()
        revealed = reveal_due(session, moment)
        if _up_to_date(session, moment, queries.last_input_event(session)):
            return {
                "trust.ratings_revealed": revealed,
                "trust.members_scored": 0,
                "trust.snapshots_written": 0,
                "trust.grades_changed": 0,
                "trust.runs_skipped": 1,
            }
        # This append locks the log head for this transaction: nothing can be logged
        # between the inputs read below and the scores published from them.
        audit.append(
            session,
            type="score.run",
            subject_user_id=None,
            payload={"score_version": score_rules.SCORE_VERSION, "as_of": iso_moment(moment)},
        )
        inputs_through = queries.last_input_event(session)
        return scoring.score_members(session, moment, revealed, inputs_through)
