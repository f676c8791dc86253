"""Admin endpoints: a person's roles and identity check (KYC), with their history."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.db import db_session
from p2pbank.identity import queries, services
from p2pbank.identity.schemas import AdminKycIn, AdminRoleIn, UserKycOut, UserRolesOut

blp = Blueprint(
    "admin_api", __name__, url_prefix="/api/v1/admin", description="Admin: roles and KYC"
)
protect(blp)


def _roles(actor_id: int, user_id: int) -> dict:
    session = db_session()
    queries.require_admin(session, actor_id)
    person = queries.person(session, actor_id, user_id)
    return {
        "user_id": person.id,
        "roles": sorted(person.role_names),
        "history": queries.role_history(session, actor_id, user_id),
    }


def _kyc(actor_id: int, user_id: int) -> dict:
    session = db_session()
    queries.require_admin(session, actor_id)
    person = queries.person(session, actor_id, user_id)
    return {
        "user_id": person.id,
        "status": person.kyc_status,
        "history": queries.kyc_history(session, actor_id, user_id),
    }


@blp.route("/users/<int:user_id>/roles")
class UserRoles(MethodView):
    @blp.response(200, UserRolesOut)
    def get(self, user_id: int):
        """A person's roles and every grant and revocation, newest first."""
        return _roles(current_api_user().id, user_id)

    @blp.arguments(AdminRoleIn)
    @blp.response(200, UserRolesOut)
    def post(self, data, user_id: int):
        """Grant or revoke a role, with a reason kept on record."""
        actor = current_api_user()
        queries.require_admin(db_session(), actor.id)
        change = services.grant_role if data["action"] == "grant" else services.revoke_role
        change(db_session(), actor.id, user_id, data["role"], data["reason"])
        return _roles(actor.id, user_id)


@blp.route("/users/<int:user_id>/kyc")
class UserKyc(MethodView):
    @blp.response(200, UserKycOut)
    def get(self, user_id: int):
        """A person's KYC status and every decision with its reason, newest first."""
        return _kyc(current_api_user().id, user_id)

    @blp.arguments(AdminKycIn)
    @blp.response(200, UserKycOut)
    def post(self, data, user_id: int):
        """Move a person's KYC status (pending → verified | rejected, ...), with a reason."""
        actor = current_api_user()
        services.set_kyc_status(db_session(), actor.id, user_id, data["status"], data["reason"])
        return _kyc(actor.id, user_id)
