"""Crowdfunding endpoints under /api/v1/campaigns: the twins of the pages. Thin: each route
calls one crowdfunding service or query; money is integer minor units."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.crowdfunding import (
    cards,
    collection,
    delivery,
    discussion,
    pledging,
    refunds,
    rewards,
    services,
)
from p2pbank.crowdfunding.read import backer, campaign_page, catalogue, crowdlending, initiator
from p2pbank.crowdfunding.schemas import (
    CampaignCancelIn,
    CampaignCommentCreatedOut,
    CampaignCommentIn,
    CampaignExploreQuery,
    CampaignIn,
    CampaignPatch,
    CampaignPledgeChangeIn,
    CampaignPledgeIn,
    CampaignUpdateIn,
    CardNumberIn,
    DeliveryProblemIn,
    RewardTierIn,
    RewardTierPatch,
    StretchGoalIn,
)
from p2pbank.crowdfunding.schemas_out import (
    CampaignCardOut,
    CampaignDashboardOut,
    CampaignDetailOut,
    CampaignExploreOut,
    CampaignOut,
    CampaignPledgeOut,
    CampaignUpdateOut,
    InformationSheetOut,
    RewardTierRowOut,
    StretchGoalRowOut,
)
from p2pbank.db import db_session
from p2pbank.errors import NotFound
from p2pbank.payments.gateway import PaymentGateway
from p2pbank.payments.settings import PaymentSettings, make_gateway

blp = Blueprint(
    "crowdfunding_api",
    __name__,
    url_prefix="/api/v1/campaigns",
    description="Crowdfunding: campaigns, rewards, pledges, settlement, crowdlending",
)
protect(blp)


def acting_user():
    return current_api_user()


def _gateway() -> PaymentGateway:
    return make_gateway(db_session(), PaymentSettings.from_mapping(current_app.config))


def _detail(campaign_id: int):
    return campaign_page.campaign_page(db_session(), campaign_id, acting_user().id)


# --- campaigns ----------------------------------------------------------------------------------


@blp.route("")
class Campaigns(MethodView):
    @blp.arguments(CampaignExploreQuery, location="query")
    @blp.response(200, CampaignExploreOut)
    def get(self, args):
        """Public campaigns: filter by category, funding model, type and status; sort by
        ending soon, most funded, newest or best delivery record (Wilson lower bound)."""
        return catalogue.explore(db_session(), **args)

    @blp.arguments(CampaignIn)
    @blp.response(201, CampaignOut)
    def post(self, data):
        """Start a draft (initiators only)."""
        return services.create_campaign(db_session(), acting_user().id, **data)


@blp.route("/mine")
class MyCampaigns(MethodView):
    @blp.response(200, CampaignCardOut(many=True))
    def get(self):
        """The campaigns you started, drafts included."""
        return catalogue.my_campaigns(db_session(), acting_user().id)


@blp.route("/<int:campaign_id>")
class CampaignItem(MethodView):
    @blp.response(200, CampaignDetailOut)
    def get(self, campaign_id: int):
        """A campaign with its progress (before fees), rewards, stretch goals, updates you
        may read and comments. Drafts only for their initiator."""
        return _detail(campaign_id)

    @blp.arguments(CampaignPatch)
    @blp.response(200, CampaignOut)
    def patch(self, data, campaign_id: int):
        """Edit; goal, duration, currency, model, type and loan terms lock once live."""
        return services.update_campaign(db_session(), acting_user().id, campaign_id, **data)


@blp.route("/<int:campaign_id>/launch")
class Launch(MethodView):
    @blp.response(200, CampaignOut)
    def post(self, campaign_id: int):
        """draft -> live: the deadline is set to the duration from now."""
        return services.launch_campaign(db_session(), acting_user().id, campaign_id)


@blp.route("/<int:campaign_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(CampaignCancelIn)
    @blp.response(200, CampaignOut)
    def post(self, data, campaign_id: int):
        """Call it off before anything is collected; every hold is released."""
        return services.cancel_campaign(db_session(), acting_user().id, campaign_id, **data)


@blp.route("/<int:campaign_id>/tiers")
class Tiers(MethodView):
    @blp.arguments(RewardTierIn)
    @blp.response(201, RewardTierRowOut)
    def post(self, data, campaign_id: int):
        """Add a reward tier (minimum pledge, optional limit, delivery month)."""
        return rewards.add_tier(db_session(), acting_user().id, campaign_id, **data)


def _tier_of(campaign_id: int, tier_id: int) -> None:
    from p2pbank.crowdfunding.models import RewardTier

    tier = db_session().get(RewardTier, tier_id)
    if tier is None or tier.campaign_id != campaign_id:
        raise NotFound("No such reward tier.")


@blp.route("/<int:campaign_id>/tiers/<int:tier_id>")
class TierItem(MethodView):
    @blp.arguments(RewardTierPatch)
    @blp.response(200, RewardTierRowOut)
    def patch(self, data, campaign_id: int, tier_id: int):
        """Change a tier; its minimum is fixed once live, its limit never below what
        backers claimed."""
        _tier_of(campaign_id, tier_id)
        return rewards.update_tier(db_session(), acting_user().id, tier_id, **data)

    @blp.response(204)
    def delete(self, campaign_id: int, tier_id: int):
        """Delete a draft's tier, or stop offering a live campaign's tier."""
        _tier_of(campaign_id, tier_id)
        rewards.remove_tier(db_session(), acting_user().id, tier_id)


@blp.route("/<int:campaign_id>/tiers/<int:tier_id>/ship")
class Ship(MethodView):
    @blp.response(200, RewardTierRowOut)
    def post(self, campaign_id: int, tier_id: int):
        """Mark a reward shipped; its backers are asked to confirm receipt."""
        _tier_of(campaign_id, tier_id)
        return delivery.mark_tier_shipped(db_session(), acting_user().id, tier_id)


@blp.route("/<int:campaign_id>/stretch-goals")
class StretchGoals(MethodView):
    @blp.arguments(StretchGoalIn)
    @blp.response(201, StretchGoalRowOut)
    def post(self, data, campaign_id: int):
        return rewards.add_stretch_goal(db_session(), acting_user().id, campaign_id, **data)


@blp.route("/<int:campaign_id>/stretch-goals/<int:goal_id>")
class StretchGoalItem(MethodView):
    @blp.response(204)
    def delete(self, campaign_id: int, goal_id: int):
        from p2pbank.crowdfunding.models import StretchGoal

        goal = db_session().get(StretchGoal, goal_id)
        if goal is None or goal.campaign_id != campaign_id:
            raise NotFound("No such stretch goal.")
        rewards.remove_stretch_goal(db_session(), acting_user().id, goal_id)


@blp.route("/<int:campaign_id>/updates")
class Updates(MethodView):
    @blp.arguments(CampaignUpdateIn)
    @blp.response(201, CampaignUpdateOut)
    def post(self, data, campaign_id: int):
        """Post an update for everyone or for backers only."""
        return discussion.post_update(db_session(), acting_user().id, campaign_id, **data)


@blp.route("/<int:campaign_id>/comments")
class Comments(MethodView):
    @blp.arguments(CampaignCommentIn)
    @blp.response(201, CampaignCommentCreatedOut)
    def post(self, data, campaign_id: int):
        """Comment, or reply to a comment (one level deep)."""
        return discussion.post_comment(db_session(), acting_user().id, campaign_id, **data)


@blp.route("/<int:campaign_id>/pledges")
class CampaignPledges(MethodView):
    @blp.arguments(CampaignPledgeIn)
    @blp.response(201, CampaignPledgeOut)
    def post(self, data, campaign_id: int):
        """Pledge from the wallet (held until the deadline) or by card (saved now with
        POST /pledges/{id}/card, charged only on success). The same idempotency key
        returns the same pledge."""
        return pledging.pledge(db_session(), acting_user().id, campaign_id, **data)


@blp.route("/<int:campaign_id>/dashboard")
class Dashboard(MethodView):
    @blp.response(200, CampaignDashboardOut)
    def get(self, campaign_id: int):
        """The initiator's view: pledges per day, tier counts, backers, payout statement."""
        return initiator.dashboard(db_session(), acting_user().id, campaign_id)


@blp.route("/<int:campaign_id>/information-sheet")
class InformationSheet(MethodView):
    @blp.response(200, InformationSheetOut)
    def get(self, campaign_id: int):
        """The key investment information sheet of a loan campaign."""
        return crowdlending.information_sheet(db_session(), campaign_id, acting_user().id)


# --- pledges ------------------------------------------------------------------------------------


def _my_pledge(pledge_id: int):
    return backer.my_pledge(db_session(), acting_user().id, pledge_id).pledge


@blp.route("/pledges")
class MyPledges(MethodView):
    @blp.response(200, CampaignPledgeOut(many=True))
    def get(self):
        """Your pledges, newest first."""
        return [v.pledge for v in backer.my_pledges(db_session(), acting_user().id)]


@blp.route("/pledges/<int:pledge_id>")
class PledgeItem(MethodView):
    @blp.response(200, CampaignPledgeOut)
    def get(self, pledge_id: int):
        return _my_pledge(pledge_id)

    @blp.arguments(CampaignPledgeChangeIn)
    @blp.response(200, CampaignPledgeOut)
    def patch(self, data, pledge_id: int):
        """Change amount or reward until the deadline (last 24 hours: only raise)."""
        return pledging.change_pledge(db_session(), acting_user().id, pledge_id, **data)

    @blp.response(200, CampaignPledgeOut)
    def delete(self, pledge_id: int):
        """Cancel before the last 24 hours; nothing is charged."""
        return pledging.cancel_pledge(db_session(), acting_user().id, pledge_id)


@blp.route("/pledges/<int:pledge_id>/revoke")
class Revoke(MethodView):
    @blp.response(200, CampaignPledgeOut)
    def post(self, pledge_id: int):
        """Revoke a loan pledge within its 4-day reflection period, without cost."""
        return pledging.revoke_pledge(db_session(), acting_user().id, pledge_id)


@blp.route("/pledges/<int:pledge_id>/card")
class Card(MethodView):
    @blp.response(200, CampaignPledgeOut)
    def post(self, pledge_id: int):
        """Start saving the card (returns `setup_client_secret` for Stripe.js), also to
        fix a declined card within its 7 days."""
        gateway = _gateway()
        if not cards.card_pledges_available(gateway):
            raise NotFound("Card pledges are not available on this server.")
        return cards.start_card_setup(db_session(), acting_user().id, pledge_id, gateway=gateway)


@blp.route("/pledges/<int:pledge_id>/card/test")
class SandboxCard(MethodView):
    @blp.arguments(CardNumberIn)
    @blp.response(200, CampaignPledgeOut)
    def post(self, data, pledge_id: int):
        """Test mode: confirm the card with one of Stripe's test card numbers."""
        return _confirmed(pledge_id, data["card_number"])


@blp.route("/pledges/<int:pledge_id>/card/confirm")
class ConfirmCard(MethodView):
    @blp.response(200, CampaignPledgeOut)
    def post(self, pledge_id: int):
        """With Stripe: after Stripe.js confirmed the setup, read it back and keep it."""
        return _confirmed(pledge_id, None)


def _confirmed(pledge_id: int, card_number: str | None):
    session = db_session()
    gateway = _gateway()
    was_errored = _my_pledge(pledge_id).status == "errored"
    if card_number is None:
        cards.confirm_card_setup(session, acting_user().id, pledge_id, gateway=gateway)
    else:
        cards.complete_test_card_setup(
            session, acting_user().id, pledge_id, gateway=gateway, card_number=card_number
        )
    if was_errored:
        collection.collect_card_pledge(session, pledge_id, gateway=gateway)
    return _my_pledge(pledge_id)


@blp.route("/pledges/<int:pledge_id>/received")
class Received(MethodView):
    @blp.response(200, CampaignPledgeOut)
    def post(self, pledge_id: int):
        return delivery.confirm_receipt(db_session(), acting_user().id, pledge_id)


@blp.route("/pledges/<int:pledge_id>/problem")
class Problem(MethodView):
    @blp.arguments(DeliveryProblemIn)
    @blp.response(200, CampaignPledgeOut)
    def post(self, data, pledge_id: int):
        return delivery.report_problem(db_session(), acting_user().id, pledge_id, **data)


@blp.route("/pledges/<int:pledge_id>/refund")
class Refund(MethodView):
    @blp.response(200, CampaignPledgeOut)
    def post(self, pledge_id: int):
        """The initiator refunds a collected pledge before the payout."""
        return refunds.refund_pledge(db_session(), acting_user().id, pledge_id, gateway=_gateway())
