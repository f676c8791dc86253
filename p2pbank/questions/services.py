"""Asking, answering and hiding questions; each a command in its own transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.crowdfunding.models import Campaign, CampaignStatus
from p2pbank.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.identity.models import User
from p2pbank.lending.models import LoanRequest, RequestStatus
from p2pbank.notifications.services import notify
from p2pbank.permissions import Permission, require
from p2pbank.questions import rules
from p2pbank.questions.models import Question
from p2pbank.trust.services import clean_text
from p2pbank.uow import command, for_update


def subject_owner(session: Session, subject_type: str, subject_id: int) -> tuple[int, bool]:
    """Who answers on this listing or campaign, and whether it takes questions now (a
    listing while it is open for funding, a campaign while it is live)."""
    if subject_type == "listing":
        request = session.get(LoanRequest, subject_id)
        if request is None:
            raise NotFound("No such listing.")
        return request.borrower_id, request.status == RequestStatus.LISTED
    if subject_type == "campaign":
        campaign = session.get(Campaign, subject_id)
        if campaign is None or campaign.is_draft:
            raise NotFound("No such campaign.")
        return campaign.initiator_id, campaign.status == CampaignStatus.LIVE
    raise NotFound("Questions are asked on listings and campaigns.")


def _subject_title(session: Session, subject_type: str, subject_id: int) -> tuple[str, str]:
    """How a notification names the listing or campaign, and the page it opens."""
    if subject_type == "listing":
        request = session.get(LoanRequest, subject_id)
        text = " ".join(request.purpose_text.split()) if request else ""
        title = text if len(text) <= 60 else text[:59] + "…"
        return title, f"/lending/listings/{subject_id}"
    campaign = session.get(Campaign, subject_id)
    return (campaign.title if campaign else ""), f"/campaigns/{subject_id}"


def ask(
    session: Session, asker_id: int, subject_type: str, subject_id: int, *, body: str
) -> Question:
    """A public question; the borrower or initiator may not ask themselves."""
    with command(session):
        owner_id, open_ = subject_owner(session, subject_type, subject_id)
        if owner_id == asker_id:
            raise InvalidState("Answer questions on your own page; you cannot ask yourself.")
        if not open_:
            raise InvalidState("Questions are taken while the listing or campaign is open.")
        text = clean_text(body, "body", maximum=rules.QUESTION_MAX, minimum=5)
        question = Question(
            subject_type=subject_type,
            subject_id=subject_id,
            owner_id=owner_id,
            asker_id=asker_id,
            body=text,
            asked_at=clock.now(),
        )
        session.add(question)
        session.flush()
        title, link = _subject_title(session, subject_type, subject_id)
        notify(session, owner_id, "question_asked", {"title": title}, link)
    return question


def _locked(session: Session, question_id: int) -> Question:
    question = session.scalar(for_update(select(Question).where(Question.id == question_id)))
    if question is None or question.hidden_at is not None:
        raise NotFound("No such question.")
    return question


def answer(session: Session, actor_id: int, question_id: int, *, body: str) -> Question:
    """The one public answer, by the borrower or initiator only."""
    with command(session):
        question = _locked(session, question_id)
        if question.owner_id != actor_id:
            raise Forbidden("Only the borrower or initiator answers.")
        if question.answered_at is not None:
            raise InvalidState("This question is answered already.")
        question.answer = clean_text(body, "body", maximum=rules.ANSWER_MAX, minimum=1)
        question.answered_at = clock.now()
        title, link = _subject_title(session, question.subject_type, question.subject_id)
        notify(session, question.asker_id, "question_answered", {"title": title}, link)
    return question


def hide(session: Session, actor_id: int, question_id: int, *, reason: str) -> Question:
    """A moderator hides a question (and its answer) from the public; the row stays."""
    with command(session):
        actor = session.get(User, actor_id)
        roles = actor.role_names if actor is not None else ()
        require(roles, Permission.MODERATE, "Only moderators hide questions.")
        question = _locked(session, question_id)
        text = clean_text(reason, "reason", maximum=200, minimum=3)
        if not text:
            raise ValidationFailed("Give a reason.", field_errors={"reason": ["Give a reason."]})
        question.hidden_at = clock.now()
        question.hidden_reason = text
        question.hidden_by_id = actor_id
    return question
