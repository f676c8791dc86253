"""Demo data: the demo auditor and admin have two-factor sign-in on with the printed key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from p2pbank import clock, demo
from p2pbank.errors import ValidationFailed
from p2pbank.identity import services, twofactor
from p2pbank.identity import twofactor_services as tfa


def test_demo_people_with_privileged_roles_have_two_factor_with_the_printed_key(
    session, frozen_now
):
    lines = list(demo._seed_people(session))  # the people only: other domains test theirs
    assert any("P2PB ANKD EMOT OTPS" in line for line in lines)
    assert any(f"pyotp.TOTP('{demo.DEMO_TOTP_SECRET}')" in line for line in lines)
    for email, _name, roles, _kyc in demo.DEMO_PEOPLE:
        user = services.find_user_by_email(session, email)
        if {"auditor", "admin"} & set(roles):
            assert user.totp_enabled and user.totp_secret == demo.DEMO_TOTP_SECRET
            assert not user.two_factor_missing
        else:
            assert not user.totp_enabled
    admin = services.find_user_by_email(session, "admin@demo.p2pbank.test")
    clock.advance(timedelta(seconds=30))
    code = twofactor.code_at(demo.DEMO_TOTP_SECRET, clock.now())
    assert tfa.verify_second_factor(session, admin.id, code).method == "totp"


@pytest.mark.parametrize(
    "secret", ["SHORT", "p2pbankdemototpsecretfordemoonly", "1" * 32, "A" * 27]
)
def test_a_given_secret_must_be_real_base32_of_128_bits(session, make_user, secret):
    user = make_user()
    with pytest.raises(ValidationFailed):
        tfa.start_enrolment(session, user.id, secret=secret)
    session.refresh(user)
    assert user.totp_secret is None
