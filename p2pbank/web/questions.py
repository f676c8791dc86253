"""Questions and answers on listing and campaign pages (the section lives in
templates/questions/_section.html, included by both pages)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank.db import db_session
from p2pbank.errors import InvalidState, ValidationFailed
from p2pbank.extensions import limiter
from p2pbank.permissions import Permission
from p2pbank.questions import queries, rules, services
from p2pbank.questions.models import Question
from p2pbank.questions.schemas import AnswerIn, AskIn, HideQuestionIn
from p2pbank.web.forms import load_form

bp = Blueprint("questions", __name__)


def _back(subject_type: str, subject_id: int):
    if subject_type == "listing":
        target = url_for("lending.listing", request_id=subject_id)
    else:
        target = url_for("crowdfunding.show", campaign_id=subject_id)
    return redirect(target + "#questions")


@bp.app_context_processor
def _questions_context():
    def subject_questions(subject_type: str, subject_id: int):
        return queries.for_subject(db_session(), subject_type, subject_id)

    def answer_record(owner_id: int):
        """(answered within 24 h, counted) of the person who answers here."""
        return queries.answer_records(db_session(), [owner_id]).get(owner_id, (0, 0))

    def may_moderate(user) -> bool:
        """The hide button shows to whoever the hide command lets through."""
        return user.is_authenticated and user.may(Permission.MODERATE)

    return {
        "subject_questions": subject_questions,
        "answer_record": answer_record,
        "may_moderate": may_moderate,
    }


@bp.post("/questions/<any(listing, campaign):subject_type>/<int:subject_id>")
@login_required
@limiter.limit("20 per hour", key_func=lambda: f"ask:{current_user.id}")
def ask(subject_type: str, subject_id: int):
    data, _errors = load_form(AskIn())
    if data is None:
        flash(_("Write your question (5 to %(max)s characters).", max=rules.QUESTION_MAX), "error")
        return _back(subject_type, subject_id)
    try:
        services.ask(db_session(), current_user.id, subject_type, subject_id, **data)
    except (InvalidState, ValidationFailed) as exc:
        flash(_(exc.detail), "error")
    else:
        flash(_("Your question is public now; you will hear when it is answered."), "success")
    return _back(subject_type, subject_id)


def _question_subject(question_id: int) -> tuple[str, int]:
    question = db_session().get(Question, question_id)
    return (question.subject_type, question.subject_id) if question else ("listing", 0)


@bp.post("/questions/<int:question_id>/answer")
@login_required
def answer(question_id: int):
    data, _errors = load_form(AnswerIn())
    subject = _question_subject(question_id)
    if data is None:
        flash(_("Write your answer first."), "error")
        return _back(*subject)
    try:
        services.answer(db_session(), current_user.id, question_id, **data)
    except (InvalidState, ValidationFailed) as exc:
        flash(_(exc.detail), "error")
    else:
        flash(_("Your answer is public now."), "success")
    return _back(*subject)


@bp.post("/questions/<int:question_id>/hide")
@login_required
def hide(question_id: int):
    data, _errors = load_form(HideQuestionIn())
    subject = _question_subject(question_id)
    if data is None:
        flash(_("Give a reason for hiding it."), "error")
        return _back(*subject)
    services.hide(db_session(), current_user.id, question_id, **data)
    flash(_("The question is hidden; the reason is kept."), "success")
    return _back(*subject)
