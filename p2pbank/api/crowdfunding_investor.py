"""Crowdlending endpoints for investors: the profile with its limits, the knowledge test,
the loss simulation, the sophisticated-investor declaration, and the campaign event log.
They join the crowdfunding blueprint (same paths and operation ids).
"""

from __future__ import annotations

from flask.views import MethodView

from p2pbank.api.crowdfunding import acting_user, blp
from p2pbank.crowdfunding import (
    investors,
    rules,
)
from p2pbank.crowdfunding.read import crowdlending
from p2pbank.crowdfunding.schemas import (
    CampaignEventsQuery,
    KnowledgeTestAnswersIn,
    LossSimulationIn,
    SophisticatedInvestorIn,
)
from p2pbank.crowdfunding.schemas_out import (
    CampaignEventOut,
    InvestorProfileOut,
    KnowledgeQuestionOut,
    KnowledgeTestResultOut,
)
from p2pbank.db import db_session

# --- investors ----------------------------------------------------------------------------------


@blp.route("/investor")
class Investor(MethodView):
    @blp.response(200, InvestorProfileOut)
    def get(self):
        """Your appropriateness record: knowledge test, simulated ability to bear loss."""
        return crowdlending.investor_view(db_session(), acting_user().id)


@blp.route("/investor/knowledge-test")
class KnowledgeTest(MethodView):
    @blp.response(200, KnowledgeQuestionOut(many=True))
    def get(self):
        """The entry knowledge test's questions."""
        return list(rules.KNOWLEDGE_TEST)

    @blp.arguments(KnowledgeTestAnswersIn)
    @blp.response(201, KnowledgeTestResultOut)
    def post(self, data):
        """Answer every question; 4 of 5 pass, valid for two years."""
        return investors.take_knowledge_test(db_session(), acting_user().id, data["answers"])


@blp.route("/investor/simulation")
class Simulation(MethodView):
    @blp.arguments(LossSimulationIn)
    @blp.response(200, InvestorProfileOut)
    def post(self, data):
        """Declare income, liquid assets and commitments; see 10 % of the net worth."""
        investors.simulate_loss_capacity(db_session(), acting_user().id, **data)
        return crowdlending.investor_view(db_session(), acting_user().id)


@blp.route("/investors/<int:user_id>/sophisticated")
class Sophisticated(MethodView):
    @blp.arguments(SophisticatedInvestorIn)
    @blp.response(204)
    def put(self, data, user_id: int):
        """Admins record a sophisticated investor (Annex II criteria checked)."""
        investors.set_sophisticated(db_session(), acting_user().id, user_id, **data)


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(CampaignEventsQuery, location="query")
    @blp.response(200, CampaignEventOut(many=True))
    def get(self, args):
        """Trust events (auditors and admins): launches, outcomes, deliveries, refunds."""
        return crowdlending.events_for(db_session(), acting_user().id, **args)
