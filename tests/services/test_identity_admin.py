"""Admin use cases: roles with reasons and history, KYC decisions, people search; and the
person's own KYC review request, language and roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from p2pbank.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.identity import queries, services
from p2pbank.identity.models import KycChange, RoleGrant


def test_admin_grants_and_revokes_with_reasons_on_record(session, make_user):
    admin = make_user(roles=["admin"], name="Alex Admin")
    ann = make_user(roles=["lender"])
    services.grant_role(session, admin.id, ann.id, "auditor", "yearly books review")
    services.revoke_role(session, admin.id, ann.id, "auditor", "review done")
    session.refresh(ann)
    assert ann.role_names == {"lender"}
    history = queries.role_history(session, admin.id, ann.id)
    assert [(h.role, h.action, h.reason, h.by_name) for h in history[:2]] == [
        ("auditor", "revoke", "review done", "Alex Admin"),
        ("auditor", "grant", "yearly books review", "Alex Admin"),
    ]
    assert history[-1].action == "grant" and history[-1].role == "lender"


@pytest.mark.parametrize("role", ["auditor", "admin", "lender"])
def test_non_admins_cannot_grant(session, make_user, role):
    auditor = make_user(roles=["auditor"])
    ann = make_user()
    with pytest.raises(Forbidden):
        services.grant_role(session, auditor.id, ann.id, role, "because")
    assert not session.scalars(
        select(RoleGrant).where(RoleGrant.user_id == ann.id, RoleGrant.role == role)
    ).all()


def test_admin_changes_need_a_reason(session, make_user):
    admin = make_user(roles=["admin"])
    ann = make_user(roles=["lender"])
    with pytest.raises(ValidationFailed):
        services.grant_role(session, admin.id, ann.id, "borrower", "   ")
    with pytest.raises(ValidationFailed):
        services.revoke_role(session, admin.id, ann.id, "lender", "")
    with pytest.raises(ValidationFailed):
        services.set_kyc_status(session, admin.id, ann.id, "pending", " ")


def test_unknown_roles_and_statuses_are_validation_errors(session, make_user):
    admin = make_user(roles=["admin"])
    ann = make_user()
    with pytest.raises(ValidationFailed):
        services.grant_role(session, admin.id, ann.id, "root", "why not")
    with pytest.raises(ValidationFailed):
        services.take_role(session, ann.id, "superuser")
    with pytest.raises(ValidationFailed):
        services.set_kyc_status(session, admin.id, ann.id, "approved", "looks fine")


def test_revocation_rules(session, make_user):
    admin, other_admin = make_user(roles=["admin"]), make_user(roles=["admin"])
    ann, bob = make_user(roles=["lender", "borrower"]), make_user(roles=["lender"])
    with pytest.raises(Forbidden):
        services.revoke_role(session, admin.id, admin.id, "admin", "stepping down")
    with pytest.raises(Forbidden):
        services.revoke_role(session, bob.id, ann.id, "lender", "mischief")
    services.revoke_role(session, ann.id, ann.id, "borrower", "")  # her own, self-service
    services.revoke_role(session, other_admin.id, admin.id, "admin", "left the team")
    session.refresh(ann)
    session.refresh(admin)
    assert ann.role_names == {"lender"} and not admin.has_role("admin")


def test_kyc_decisions_follow_the_lifecycle_and_are_recorded(session, make_user):
    admin = make_user(roles=["admin"], name="Alex Admin")
    ann = make_user()
    with pytest.raises(InvalidState):
        services.set_kyc_status(session, admin.id, ann.id, "verified", "skip the queue")
    services.set_kyc_status(session, admin.id, ann.id, "pending", "documents received")
    services.set_kyc_status(session, admin.id, ann.id, "rejected", "photo unreadable")
    history = queries.kyc_history(session, admin.id, ann.id)
    assert [(h.from_status, h.to_status, h.reason, h.by_name) for h in history] == [
        ("pending", "rejected", "photo unreadable", "Alex Admin"),
        ("unverified", "pending", "documents received", "Alex Admin"),
    ]


def test_only_admins_decide_kyc(session, make_user):
    auditor, ann = make_user(roles=["auditor"]), make_user(kyc="pending")
    with pytest.raises(Forbidden):
        services.set_kyc_status(session, auditor.id, ann.id, "verified", "trust me")
    with pytest.raises(Forbidden):
        services.set_kyc_status(session, ann.id, ann.id, "verified", "it is me")
    session.refresh(ann)
    assert ann.kyc_status == "pending"


def test_a_person_asks_for_a_review(session, make_user):
    ann = make_user()
    services.request_kyc_review(session, ann.id)
    assert ann.kyc_status == "pending"
    change = session.scalar(select(KycChange).where(KycChange.user_id == ann.id))
    assert (change.from_status, change.to_status, change.decided_by_id) == (
        "unverified",
        "pending",
        ann.id,
    )
    with pytest.raises(InvalidState):
        services.request_kyc_review(session, ann.id)  # already pending


@pytest.mark.parametrize(("status", "allowed"), [("rejected", True), ("verified", False)])
def test_review_after_a_decision(session, make_user, status, allowed):
    ann = make_user(kyc=status)
    if allowed:
        assert services.request_kyc_review(session, ann.id).kyc_status == "pending"
    else:
        with pytest.raises(InvalidState):
            services.request_kyc_review(session, ann.id)


def test_search_people_for_admins_only(session, make_user):
    admin = make_user(roles=["admin"])
    make_user(email="lena.lender@example.test", name="Lena")
    make_user(email="bo@example.test", name="Bo 100%_Borrower")
    assert [p.display_name for p in queries.search_people(session, admin.id, "LENA").people] == [
        "Lena"
    ]
    found = queries.search_people(session, admin.id, "100%_")
    assert [p.display_name for p in found.people] == ["Bo 100%_Borrower"]
    assert queries.search_people(session, admin.id, "%").total == 1  # % is literal
    everyone = queries.search_people(session, admin.id, "", per_page=2)
    assert everyone.total == 3 and len(everyone.people) == 2 and everyone.pages == 2
    assert len(queries.search_people(session, admin.id, "", page=2, per_page=2).people) == 1
    lender = make_user(roles=["lender"])
    with pytest.raises(Forbidden):
        queries.search_people(session, lender.id, "")


def test_histories_for_the_person_themselves_or_admins(session, make_user):
    admin, ann, bob = make_user(roles=["admin"]), make_user(roles=["lender"]), make_user()
    assert queries.role_history(session, ann.id, ann.id)
    assert queries.role_history(session, admin.id, ann.id)
    with pytest.raises(Forbidden):
        queries.role_history(session, bob.id, ann.id)
    with pytest.raises(Forbidden):
        queries.kyc_history(session, bob.id, ann.id)
    with pytest.raises(Forbidden):
        queries.person(session, bob.id, ann.id)
    with pytest.raises(NotFound):
        queries.person(session, admin.id, 999_999)


def test_language_setting(session, make_user):
    ann = make_user()
    assert services.set_locale(session, ann.id, "nl").locale == "nl"
    assert services.set_locale(session, ann.id, None).locale is None
    with pytest.raises(ValidationFailed):
        services.set_locale(session, ann.id, "fr")


def test_taking_self_service_roles(session, make_user):
    ann = make_user(roles=["lender"])
    services.take_role(session, ann.id, "borrower")
    services.take_role(session, ann.id, "borrower")  # again: no duplicate, no second record
    assert ann.role_names == {"lender", "borrower"}
    grants = session.scalars(
        select(RoleGrant).where(RoleGrant.user_id == ann.id, RoleGrant.role == "borrower")
    ).all()
    assert len(grants) == 1 and grants[0].granted_by_id == ann.id
    with pytest.raises(Forbidden):
        services.take_role(session, ann.id, "admin")
