"""Identity endpoints: who am I, and my API tokens."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.db import db_session
from p2pbank.identity import services
from p2pbank.identity.schemas import TokenCreatedOut, TokenIn, TokenOut, UserOut

blp = Blueprint("identity", __name__, url_prefix="/api/v1", description="Who you are")
protect(blp)


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserOut)
    def get(self):
        return current_api_user()


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenOut(many=True))
    def get(self):
        return services.list_api_tokens(db_session(), current_api_user().id)

    @blp.arguments(TokenIn)
    @blp.response(201, TokenCreatedOut)
    def post(self, data):
        row, secret = services.create_api_token(db_session(), current_api_user().id, **data)
        return {**{name: getattr(row, name) for name in TokenOut().fields}, "token": secret}


@blp.route("/tokens/<int:token_id>")
class TokenItem(MethodView):
    @blp.response(204)
    def delete(self, token_id: int):
        services.revoke_api_token(db_session(), current_api_user().id, token_id)
