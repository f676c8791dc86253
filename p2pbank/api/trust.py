"""Trust endpoints under /api/v1/trust: member profiles and the ranking, ratings to give,
rating, revision requests and revisions, moderation (admins) and the member score
breakdown from the trust log (auditors). Thin: each route calls one trust service or
query, which decide who may see and do what. Shares are integer basis points."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.db import db_session
from p2pbank.trust import breakdown, revisions, services
from p2pbank.trust.read import moderation as moderation_read
from p2pbank.trust.read import profile as profile_read
from p2pbank.trust.read import ranking as ranking_read
from p2pbank.trust.read import ratings as ratings_read
from p2pbank.trust.schemas import (
    BreakdownOut,
    HideIn,
    ModeratedOut,
    MyRatingsOut,
    OwnRatingOut,
    PendingOut,
    ProfileOut,
    RankingArgs,
    RankingOut,
    RateIn,
    ReviseIn,
    RevisionRequestIn,
    RevisionRequestOut,
)

blp = Blueprint(
    "trust_api",
    __name__,
    url_prefix="/api/v1/trust",
    description=(
        "Reputation: ratings between the parties of completed loans and campaigns "
        "(double-blind, revised only upward on request, hidden only by moderators), "
        "feedback scores, 12-month percentages, risk grades with reasons, and rankings by "
        "Wilson lower bound. Every rating and score is in the public trust log."
    ),
)
protect(blp)


def _me():
    return current_api_user()


@blp.route("/members")
class Members(MethodView):
    @blp.arguments(RankingArgs, location="query")
    @blp.response(200, RankingOut)
    def get(self, args):
        """Members rated in the last 12 months, best first by Wilson lower bound (z = 1.96)
        of positives among positive and negative ratings; 50 per page."""
        return ranking_read.ranking(db_session(), page=args["page"])


@blp.route("/members/<int:user_id>")
class Member(MethodView):
    @blp.response(200, ProfileOut)
    def get(self, user_id: int):
        """A member's public reputation: feedback score and star, 12-month percent
        positive and effective percent positive, grade with reasons, recent ratings."""
        return profile_read.member_profile(db_session(), user_id)


@blp.route("/ratings")
class MyRatings(MethodView):
    @blp.response(200, MyRatingsOut)
    def get(self):
        """Ratings you gave and received (a sealed rating about you shows only that it
        exists), and the counterparties you may still rate."""
        return ratings_read.my_ratings(db_session(), _me().id)


@blp.route("/ratings/pending")
class Pending(MethodView):
    @blp.response(200, PendingOut(many=True))
    def get(self):
        """Completed transactions you may still rate, the soonest deadline first."""
        return ratings_read.pending_ratings(db_session(), _me().id)


@blp.route("/transactions/<int:transaction_id>/ratings")
class Rate(MethodView):
    @blp.arguments(RateIn)
    @blp.response(201, OwnRatingOut)
    def post(self, data, transaction_id: int):
        """Rate the other party once, within 60 days of completion (14 days after their
        rating if they rated first). Sealed until both rated or their time is over."""
        session = db_session()
        rating = services.rate_counterparty(session, _me().id, transaction_id, **data)
        return ratings_read.own_rating(session, _me().id, rating.id)


@blp.route("/ratings/<int:rating_id>/revision-request")
class AskRevision(MethodView):
    @blp.arguments(RevisionRequestIn)
    @blp.response(201, RevisionRequestOut)
    def post(self, data, rating_id: int):
        """As the rated person, ask the author to reconsider a shown rating (once)."""
        return revisions.request_revision(db_session(), _me().id, rating_id, **data)


@blp.route("/ratings/<int:rating_id>/revision")
class Revise(MethodView):
    @blp.arguments(ReviseIn)
    @blp.response(200, OwnRatingOut)
    def post(self, data, rating_id: int):
        """As the author, answer a revision request: only upward, only once."""
        session = db_session()
        revisions.revise_rating(session, _me().id, rating_id, **data)
        return ratings_read.own_rating(session, _me().id, rating_id)


@blp.route("/ratings/<int:rating_id>/hide")
class Hide(MethodView):
    @blp.arguments(HideIn)
    @blp.response(200, ModeratedOut)
    def post(self, data, rating_id: int):
        """Moderators (admins): hide a shown rating with a reason. It is never deleted."""
        session = db_session()
        revisions.hide_rating(session, _me().id, rating_id, **data)
        return moderation_read.moderated(session, _me(), rating_id)


@blp.route("/audit/members/<subject>")
class Breakdown(MethodView):
    @blp.response(200, BreakdownOut)
    def get(self, subject: str):
        """Auditors: a pseudonym's scores recomputed from the trust log, with every input."""
        return breakdown.member_breakdown(db_session(), _me(), subject)
