"""Role rules (self-service vs privileged), two-factor requirement, KYC transitions."""

from __future__ import annotations

import pytest

from p2pbank.errors import InvalidState
from p2pbank.identity import rules
from p2pbank.identity.models import User

SELF_SERVICE = ["lender", "borrower", "initiator", "backer"]
PRIVILEGED = ["auditor", "admin"]


@pytest.mark.parametrize("role", SELF_SERVICE)
def test_self_service_roles_can_be_taken(role):
    assert rules.may_take_role(role)


@pytest.mark.parametrize("role", [*PRIVILEGED, "root", "", "Lender"])
def test_privileged_or_unknown_roles_cannot_be_taken(role):
    assert not rules.may_take_role(role)


def test_only_admins_grant_roles():
    assert rules.may_grant_role({"admin"})
    assert rules.may_grant_role({"admin", "lender"})
    for roles in [set(), {"auditor"}, {"lender", "borrower", "initiator", "backer"}]:
        assert not rules.may_grant_role(roles)


@pytest.mark.parametrize(
    ("actor_id", "actor_roles", "target_id", "role", "allowed"),
    [
        (1, {"lender"}, 1, "lender", True),  # drop your own self-service role
        (1, {"lender"}, 1, "admin", False),
        (1, {"admin"}, 1, "admin", False),  # nobody revokes their own admin role
        (1, {"auditor"}, 1, "auditor", False),
        (1, {"admin"}, 2, "admin", True),  # another admin may
        (1, {"admin"}, 2, "lender", True),
        (1, {"auditor"}, 2, "lender", False),
        (1, {"lender"}, 2, "lender", False),
        (1, {"admin"}, 2, "nonsense", False),
    ],
)
def test_who_may_revoke_what(actor_id, actor_roles, target_id, role, allowed):
    assert rules.may_revoke_role(actor_id, actor_roles, target_id, role) is allowed


@pytest.mark.parametrize(
    ("roles", "required"),
    [
        ([], False),
        (SELF_SERVICE, False),
        (["auditor"], True),
        (["admin"], True),
        (["lender", "admin"], True),
    ],
)
def test_two_factor_is_required_for_auditors_and_admins(roles, required):
    assert rules.two_factor_required(roles) is required


@pytest.mark.parametrize(
    ("current", "targets"),
    [
        ("unverified", ["pending"]),
        ("pending", ["verified", "rejected"]),
        ("verified", ["rejected"]),
        ("rejected", ["pending"]),
    ],
)
def test_kyc_targets(current, targets):
    assert rules.kyc_targets(current) == targets
    for target in ["unverified", "pending", "verified", "rejected"]:
        assert rules.kyc_can_move(current, target) is (target in targets)


def test_kyc_can_move_refuses_unknown_statuses():
    assert not rules.kyc_can_move("pending", "approved")
    assert not rules.kyc_can_move("nonsense", "pending")


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("unverified", True), ("rejected", True), ("pending", False), ("verified", False)],
)
def test_who_may_ask_for_a_kyc_review(status, allowed):
    assert rules.may_request_kyc_review(status) is allowed


def test_the_user_model_enforces_the_kyc_table():
    user = User(kyc_status="unverified")
    with pytest.raises(InvalidState):
        user.move_kyc(rules.KycStatus.VERIFIED)
    user.move_kyc(rules.KycStatus.PENDING)
    user.move_kyc(rules.KycStatus.VERIFIED)
    assert user.kyc_verified
    with pytest.raises(InvalidState):
        user.move_kyc(rules.KycStatus.PENDING)
