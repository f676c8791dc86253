"""After a rating: the ratee asks for a revision, the rater revises it once, a moderator
hides it with a reason kept. Each is one command through p2pbank/uow.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.audit import services as audit
from p2pbank.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.permissions import Permission, require
from p2pbank.trust import queries
from p2pbank.trust.models import (
    COMMENT_MAX,
    DETAILS_FOR,
    NOTE_MAX,
    HideReason,
    Rating,
    RatingStatus,
    RevisionRequest,
    RevisionStatus,
)
from p2pbank.trust.services import (
    N_,
    check_details,
    clean_text,
    load_member,
    lock_transaction,
    rating_value,
    reveal,
)
from p2pbank.uow import command


def _lock_rating(session: Session, rating_id: int) -> Rating:
    rating = session.get(Rating, rating_id)
    if rating is None:
        raise NotFound("No such rating.")
    lock_transaction(session, rating.transaction_id)
    session.refresh(rating)
    return rating


def _shown(session: Session, rating: Rating, moment: datetime) -> None:
    """A rating about to be acted on in public must be revealed; reveal it if it is due."""
    if rating.status == RatingStatus.SEALED:
        if not rating.is_open_at(moment):
            raise InvalidState("This rating is still sealed.")
        reveal(session, rating, moment)


def request_revision(
    session: Session, ratee_id: int, rating_id: int, *, note: str = ""
) -> RevisionRequest:
    """The rated person asks the author to reconsider; once per rating."""
    with command(session):
        moment = clock.now()
        rating = _lock_rating(session, rating_id)
        if rating.rater_id == ratee_id:
            raise Forbidden("Only the rated person asks for a revision.")
        if rating.ratee_id != ratee_id:
            raise NotFound("No such rating about you.")
        _shown(session, rating, moment)
        if rating.hidden_at is not None:
            raise InvalidState("A moderator hid this rating.")
        if queries.revision_request(session, rating.id) is not None or rating.revised_at:
            raise Conflict("A revision of this rating was asked for already; it is asked once.")
        if rating.value == 1 and all(
            rating.details.get(str(d), 5) == 5 for d in DETAILS_FOR[rating.ratee_side]
        ):
            raise InvalidState("This rating cannot go any higher.")
        request = RevisionRequest(
            rating_id=rating.id,
            requested_by_id=ratee_id,
            note=clean_text(note, "note", maximum=NOTE_MAX),
            status=RevisionStatus.OPEN,
            requested_at=moment,
        )
        session.add(request)
    return request


def revise_rating(
    session: Session,
    rater_id: int,
    rating_id: int,
    *,
    value: str | int,
    comment: str | None = None,
    details: Mapping[str, int] | None = None,
) -> Rating:
    """The author answers a revision request: only upward, only once."""
    with command(session):
        moment = clock.now()
        rating = _lock_rating(session, rating_id)
        if rating.ratee_id == rater_id:
            raise Forbidden("Only its author revises a rating.")
        if rating.rater_id != rater_id:
            raise NotFound("No such rating of yours.")
        request = queries.revision_request(session, rating.id)
        if request is None:
            raise InvalidState("A rating is revised only when the rated person asks.")
        if rating.revised_at is not None or request.status != RevisionStatus.OPEN:
            raise Conflict("This rating was revised already; a rating is revised once.")
        if rating.hidden_at is not None:
            raise InvalidState("A moderator hid this rating.")
        _shown(session, rating, moment)
        new_value = rating_value(value)
        if new_value < rating.value:
            raise ValidationFailed.on("value", N_("A revision only goes up."))
        stars = check_details(details, rating.ratee_side)
        old_stars = rating.details
        for name, count in stars.items():
            if count < old_stars.get(name, 1):
                raise ValidationFailed.on(name, N_("A revision only goes up."))
        raised = new_value > rating.value or any(
            count > old_stars.get(name, 0) for name, count in stars.items()
        )
        if not raised:
            raise ValidationFailed.on("value", N_("A revision raises the rating or a detail."))
        before = rating.value
        rating.value_before_revision = before
        rating.value = new_value
        for name, count in stars.items():
            setattr(rating, f"{name}_stars", count)
        if comment is not None:
            rating.comment = clean_text(comment, "comment", maximum=COMMENT_MAX)
        rating.revised_at = moment
        request.move_to(RevisionStatus.REVISED)
        request.answered_at = moment
        session.flush()
        audit.append(
            session,
            type="rating.revised",
            subject_user_id=rating.ratee_id,
            payload={
                "rating": rating.id,
                "from": before,
                "to": rating.value,
                "details": rating.details,
            },
        )
    return rating


def hide_rating(
    session: Session, moderator_id: int, rating_id: int, *, reason: str, note: str
) -> Rating:
    """A moderator (admin) hides a shown rating with a reason; it is never deleted."""
    with command(session):
        moment = clock.now()
        moderator = load_member(session, moderator_id)
        require(moderator.role_names, Permission.MODERATE, "Only a moderator hides ratings.")
        rating = _lock_rating(session, rating_id)
        if reason not in {str(r) for r in HideReason}:
            raise ValidationFailed.on("reason", N_("Choose a reason."))
        text = clean_text(note, "note", maximum=NOTE_MAX, minimum=3)
        _shown(session, rating, moment)
        if rating.hidden_at is not None:
            raise Conflict("This rating is hidden already.")
        rating.hidden_at = moment
        rating.hidden_reason = reason
        rating.hidden_note = text
        rating.hidden_by_id = moderator_id
        session.flush()
        audit.append(
            session,
            type="rating.hidden",
            subject_user_id=rating.ratee_id,
            payload={
                "rating": rating.id,
                "reason": reason,
                "by": audit.pseudonym(session, moderator_id),
            },
        )
    return rating
