"""Questions and answers under /api/v1/questions: read a listing's or campaign's
questions, ask one, answer one of yours, hide one (moderators)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.db import db_session
from p2pbank.questions import queries, services
from p2pbank.questions.schemas import (
    AnswerIn,
    AskIn,
    CreatedQuestionOut,
    HideQuestionIn,
    QuestionOut,
)

blp = Blueprint(
    "questions_api",
    __name__,
    url_prefix="/api/v1/questions",
    description="Public questions and answers on listings and campaigns",
)
protect(blp)


@blp.route("/<any(listing, campaign):subject_type>/<int:subject_id>")
class Questions(MethodView):
    @blp.response(200, QuestionOut(many=True))
    def get(self, subject_type: str, subject_id: int):
        """The visible questions of a listing or campaign, oldest first, with the answer
        clock (hours to the answer, or waiting so far)."""
        services.subject_owner(db_session(), subject_type, subject_id)
        return queries.for_subject(db_session(), subject_type, subject_id)

    @blp.arguments(AskIn)
    @blp.response(201, CreatedQuestionOut)
    def post(self, data, subject_type: str, subject_id: int):
        """Ask the borrower or initiator a public question (5 to 1,000 characters)."""
        return services.ask(
            db_session(), current_api_user().id, subject_type, subject_id, body=data["body"]
        )


@blp.route("/<int:question_id>/answer")
class Answer(MethodView):
    @blp.arguments(AnswerIn)
    @blp.response(200, CreatedQuestionOut)
    def post(self, data, question_id: int):
        """Answer a question on your own listing or campaign, once, in public."""
        return services.answer(db_session(), current_api_user().id, question_id, **data)


@blp.route("/<int:question_id>/hide")
class Hide(MethodView):
    @blp.arguments(HideQuestionIn)
    @blp.response(200, CreatedQuestionOut)
    def post(self, data, question_id: int):
        """Hide a question from the public, with a reason kept (moderators only)."""
        return services.hide(db_session(), current_api_user().id, question_id, **data)
