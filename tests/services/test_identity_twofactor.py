"""Two-factor use cases against the real database: enrol, confirm, sign in, replay,
recovery codes, regenerate, turn off; and the API refusal for privileged people without it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from p2pbank import clock
from p2pbank.errors import Conflict, Forbidden, InvalidState, Unauthorized, ValidationFailed
from p2pbank.identity import services, tokens, twofactor
from p2pbank.identity import twofactor_services as tfa
from p2pbank.identity.models import OutboxMail, RecoveryCode


def _enrolled(session, user, frozen_now):
    secret = tfa.start_enrolment(session, user.id)
    codes = tfa.confirm_enrolment(session, user.id, twofactor.code_at(secret, clock.now()))
    clock.advance(timedelta(seconds=30))  # the confirming code's step is used up
    return secret, codes


def test_enrolment_is_pending_until_a_code_confirms_it(session, make_user, frozen_now):
    user = make_user()
    secret = tfa.start_enrolment(session, user.id)
    assert user.totp_pending and not user.totp_enabled
    assert tfa.enrolment_uri(session, user.id).startswith("otpauth://totp/p2pbank:")
    with pytest.raises(ValidationFailed) as wrong:
        tfa.confirm_enrolment(session, user.id, "000000" if secret else "")
    assert "code" in wrong.value.field_errors
    assert not user.totp_enabled
    epoch = user.session_epoch
    codes = tfa.confirm_enrolment(session, user.id, twofactor.code_at(secret, frozen_now))
    session.refresh(user)
    assert user.totp_enabled and not user.totp_pending
    assert user.totp_enabled_at == frozen_now
    assert user.session_epoch == epoch + 1  # other sessions end
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
    assert sorted(stored) == sorted(tokens.token_hash(c) for c in codes)  # hashed, never plain
    mail = session.scalar(select(OutboxMail).where(OutboxMail.to_address == user.email))
    assert mail.subject == "Two-factor sign-in is on"


def test_restarting_enrolment_replaces_the_secret(session, make_user, frozen_now):
    user = make_user()
    first = tfa.start_enrolment(session, user.id)
    second = tfa.start_enrolment(session, user.id)
    assert first != second
    with pytest.raises(ValidationFailed):
        tfa.confirm_enrolment(session, user.id, twofactor.code_at(first, frozen_now))


def test_confirm_without_start_and_start_when_on_are_refused(session, make_user, frozen_now):
    user = make_user()
    with pytest.raises(InvalidState):
        tfa.confirm_enrolment(session, user.id, "123456")
    with pytest.raises(InvalidState):
        tfa.enrolment_uri(session, user.id)
    _enrolled(session, user, frozen_now)
    with pytest.raises(Conflict):
        tfa.start_enrolment(session, user.id)
    with pytest.raises(Conflict):
        tfa.confirm_enrolment(session, user.id, "123456")


def test_cancel_forgets_an_unconfirmed_secret(session, make_user, frozen_now):
    user = make_user()
    tfa.start_enrolment(session, user.id)
    tfa.cancel_enrolment(session, user.id)
    session.refresh(user)
    assert user.totp_secret is None and not user.totp_pending


def test_sign_in_code_is_accepted_once(session, make_user, frozen_now):
    user = make_user()
    secret, _codes = _enrolled(session, user, frozen_now)
    code = twofactor.code_at(secret, clock.now())
    result = tfa.verify_second_factor(session, user.id, code)
    assert result.method == "totp" and result.recovery_codes_left == 10
    with pytest.raises(Unauthorized):
        tfa.verify_second_factor(session, user.id, code)  # replayed
    clock.advance(timedelta(seconds=30))
    with pytest.raises(Unauthorized):
        tfa.verify_second_factor(session, user.id, code)  # still within the window: refused
    fresh = twofactor.code_at(secret, clock.now())
    assert tfa.verify_second_factor(session, user.id, fresh).method == "totp"


def test_window_accepts_one_step_of_clock_skew(session, make_user, frozen_now):
    user = make_user()
    secret, _ = _enrolled(session, user, frozen_now)
    ahead = twofactor.code_at(secret, clock.now() + timedelta(seconds=30))
    assert tfa.verify_second_factor(session, user.id, ahead).method == "totp"
    far = twofactor.code_at(secret, clock.now() + timedelta(seconds=90))
    with pytest.raises(Unauthorized):
        tfa.verify_second_factor(session, user.id, far)


def test_recovery_codes_work_once_each(session, make_user, frozen_now):
    user = make_user()
    _secret, codes = _enrolled(session, user, frozen_now)
    result = tfa.verify_second_factor(session, user.id, codes[0].lower().replace("-", " "))
    assert result.method == "recovery" and result.recovery_codes_left == 9
    with pytest.raises(Unauthorized):
        tfa.verify_second_factor(session, user.id, codes[0])
    assert tfa.recovery_codes_left(session, user.id) == 9
    with pytest.raises(Unauthorized):
        tfa.verify_second_factor(session, user.id, "AAAAA-BBBBB")


def test_another_persons_recovery_code_does_not_work(session, make_user, frozen_now):
    ann, bob = make_user(), make_user()
    _enrolled(session, ann, frozen_now)
    _s, bob_codes = _enrolled(session, bob, frozen_now)
    with pytest.raises(Unauthorized):
        tfa.verify_second_factor(session, ann.id, bob_codes[0])
    assert tfa.recovery_codes_left(session, bob.id) == 10


def test_regenerating_replaces_every_code(session, make_user, frozen_now):
    user = make_user()
    secret, old = _enrolled(session, user, frozen_now)
    with pytest.raises(ValidationFailed):
        tfa.regenerate_recovery_codes(session, user.id, "000000")
    new = tfa.regenerate_recovery_codes(session, user.id, old[3])
    assert len(new) == 10 and not set(new) & set(old)
    assert (
        session.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id))
        == 10
    )
    with pytest.raises(Unauthorized):
        tfa.verify_second_factor(session, user.id, old[5])
    assert tfa.verify_second_factor(session, user.id, new[0]).method == "recovery"


def test_turning_off_needs_a_code_and_clears_everything(session, make_user, frozen_now):
    user = make_user()
    secret, _codes = _enrolled(session, user, frozen_now)
    with pytest.raises(ValidationFailed):
        tfa.disable(session, user.id, "000000")
    epoch = user.session_epoch
    tfa.disable(session, user.id, twofactor.code_at(secret, clock.now()))
    session.refresh(user)
    assert not user.totp_enabled and user.totp_secret is None and user.totp_last_step is None
    assert user.session_epoch == epoch + 1
    assert tfa.recovery_codes_left(session, user.id) == 0
    with pytest.raises(InvalidState):
        tfa.disable(session, user.id, "123456")
    with pytest.raises(InvalidState):
        tfa.verify_second_factor(session, user.id, "123456")


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_cannot_turn_it_off(session, make_user, frozen_now, role):
    user = make_user(roles=[role])
    assert user.totp_enabled  # make_user enrols them: their role requires it
    clock.advance(timedelta(seconds=60))
    with pytest.raises(Forbidden):
        tfa.disable(session, user.id, twofactor.code_at(user.totp_secret, clock.now()))
    session.refresh(user)
    assert user.totp_enabled


def test_privileged_api_token_without_two_factor_is_refused(session, make_user):
    admin = make_user(roles=["admin"], two_factor=False)
    assert admin.two_factor_missing
    _row, secret = services.create_api_token(session, admin.id, name="t", scope="read")
    with pytest.raises(Forbidden) as refused:
        services.user_for_api_token(session, secret)
    assert "two-factor" in refused.value.detail
    lender = make_user(roles=["lender"])
    _row, lender_secret = services.create_api_token(session, lender.id, name="t", scope="read")
    assert services.user_for_api_token(session, lender_secret)[0].id == lender.id


def test_granting_a_privileged_role_makes_two_factor_missing(session, make_user):
    user = make_user(roles=["lender"])
    assert not user.two_factor_missing
    services.grant_role(session, None, user.id, "auditor", "books review")
    assert user.two_factor_missing
