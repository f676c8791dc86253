"""The secondary market under /api/v1/resale: parts for sale, one offer with its price
lines, offering a part, cancelling, buying, your trades, and letting an auto-invest order
buy here. Money in cents, rates and premiums in basis points; errors are problem+json."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.db import db_session
from p2pbank.resale import read, services
from p2pbank.resale.schemas import (
    AutoResaleIn,
    AutoResaleOut,
    BuyIn,
    CreatedOfferOut,
    OfferIn,
    OfferOut,
    OfferPageOut,
    OfferQuery,
    PageQuery,
    SaleOut,
    TradePageOut,
)

blp = Blueprint(
    "resale_api",
    __name__,
    url_prefix="/api/v1/resale",
    description="Secondary market: buy and sell whole loan parts",
)
protect(blp)


@blp.route("/offers")
class Offers(MethodView):
    @blp.arguments(OfferQuery, location="query")
    @blp.response(200, OfferPageOut)
    def get(self, args):
        """Parts for sale, newest first; late parts say how many days late they are."""
        return read.market(db_session(), current_api_user().id, **args)


@blp.route("/offers/<int:offer_id>")
class Offer(MethodView):
    @blp.response(200, OfferOut)
    def get(self, offer_id: int):
        """One offer with what a buyer pays today: price, accrued interest, total, and the
        fee taken from the seller's proceeds."""
        return read.quote_offer(db_session(), current_api_user(), offer_id)


@blp.route("/parts/<int:part_id>/offers")
class PartOffers(MethodView):
    @blp.arguments(OfferIn)
    @blp.response(201, CreatedOfferOut)
    def post(self, data, part_id: int):
        """Offer one of your loan parts, whole, from 20 % below to 10 % above its
        outstanding principal."""
        return services.offer_part(db_session(), current_api_user().id, part_id, **data)


@blp.route("/offers/<int:offer_id>/cancel")
class Cancel(MethodView):
    @blp.response(200, CreatedOfferOut)
    def post(self, offer_id: int):
        """Take your part off the market."""
        return services.cancel_offer(db_session(), current_api_user().id, offer_id)


@blp.route("/offers/<int:offer_id>/buy")
class Buy(MethodView):
    @blp.arguments(BuyIn)
    @blp.response(201, SaleOut)
    def post(self, data, offer_id: int):
        """Buy the part at the total you were quoted (a changed price is a 409); a late
        part needs accept_late. The same idempotency key returns the same sale."""
        return services.buy(db_session(), current_api_user().id, offer_id, **data)


@blp.route("/trades")
class Trades(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, TradePageOut)
    def get(self, args):
        """Your offers and the parts you bought, newest first."""
        return read.my_trades(db_session(), current_api_user().id, **args)


@blp.route("/orders/<int:order_id>/auto")
class AutoResale(MethodView):
    @blp.arguments(AutoResaleIn)
    @blp.response(200, AutoResaleOut)
    def put(self, data, order_id: int):
        """Let one of your auto-invest orders buy current parts at par or below here."""
        return services.set_auto_resale(
            db_session(), current_api_user().id, order_id, data["enabled"]
        )
