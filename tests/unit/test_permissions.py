"""The grants table, role by role: what each role may do and nothing more. A change here
changes who sees which page, so each role's full set is written out."""

from __future__ import annotations

import pytest

from p2pbank.errors import Forbidden
from p2pbank.permissions import GRANTS, Permission, Role, may, permissions_of, require

P = Permission

EXPECTED = {
    Role.LENDER: {P.LEND, P.LEND_THROUGH_CAMPAIGNS},
    Role.BORROWER: {P.BORROW},
    Role.INITIATOR: {P.START_CAMPAIGNS},
    Role.BACKER: {P.LEND_THROUGH_CAMPAIGNS},
    Role.AUDITOR: {P.READ_AUDIT_LOG, P.READ_BOOKS},
    Role.ADMIN: {P.READ_BOOKS, P.MANAGE_PEOPLE, P.MODERATE, P.REFUND_DEPOSITS, P.OVERSEE},
}


def test_every_role_has_a_row():
    assert set(GRANTS) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_each_roles_permissions(role):
    assert permissions_of([role.value]) == EXPECTED[role]


def test_every_permission_is_granted_by_some_role():
    assert set().union(*GRANTS.values()) == set(Permission)


def test_the_audit_log_is_for_auditors_not_admins():
    """Admins' own actions are in the log; the outside auditor reads it."""
    assert may(["auditor"], P.READ_AUDIT_LOG)
    assert not may(["admin"], P.READ_AUDIT_LOG)
    assert may(["auditor"], P.READ_BOOKS) and may(["admin"], P.READ_BOOKS)


def test_roles_add_up_and_unknown_names_grant_nothing():
    assert permissions_of(["lender", "borrower"]) == {P.LEND, P.LEND_THROUGH_CAMPAIGNS, P.BORROW}
    assert permissions_of([]) == frozenset()
    assert permissions_of(["superuser", "ADMIN", ""]) == frozenset()


def test_require_refuses_in_the_words_given():
    require(frozenset({"admin"}), P.MODERATE, "Only moderators see this.")
    with pytest.raises(Forbidden) as refused:
        require(frozenset({"lender"}), P.MODERATE, "Only moderators see this.")
    assert refused.value.detail == "Only moderators see this."
    assert refused.value.status == 403
