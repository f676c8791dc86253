"""Fixtures the crowdfunding service tests share: the campaign's initiator and backers."""

from __future__ import annotations

import pytest

from tests.support.crowdfunding import an_initiator, backer_factory


@pytest.fixture
def initiator(make_user):
    """Ian, a verified initiator."""
    return an_initiator(make_user)


@pytest.fixture
def backers(make_user, session):
    """backers(n, funds=...) -> verified backers with that much in their wallets."""
    return backer_factory(make_user, session)
