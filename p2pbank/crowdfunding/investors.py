"""Crowdlending investor safeguards (Regulation (EU) 2020/1503, Art. 21): the entry
knowledge test, the simulation of the ability to bear loss, and the check made before
every loan pledge. Each public command commits once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.kernel import get_user
from p2pbank.crowdfunding.models import InvestorProfile, KnowledgeTestAttempt
from p2pbank.errors import Forbidden, ValidationFailed
from p2pbank.permissions import Permission, require
from p2pbank.uow import command

DECLARED_MAX_MINOR = 10**13  # 100 billion: a sanity bound on declared figures


def get_profile(session: Session, user_id: int) -> InvestorProfile | None:
    return session.scalar(select(InvestorProfile).where(InvestorProfile.user_id == user_id))


def _profile_for_update(session: Session, user_id: int) -> InvestorProfile:
    profile = get_profile(session, user_id)
    if profile is None:
        profile = InvestorProfile(user_id=user_id)
        session.add(profile)
        session.flush()
    return profile


def take_knowledge_test(
    session: Session, user_id: int, answers: dict[str, str]
) -> KnowledgeTestAttempt:
    """Score the answers and record the attempt; a pass is valid for two years."""
    with command(session):
        user = get_user(session, user_id)
        if not isinstance(answers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
        ):
            raise ValidationFailed.on("answers", "Answer every question.")
        missing = [q.key for q in rules.KNOWLEDGE_TEST if q.key not in answers]
        if missing:
            raise ValidationFailed(
                "Answer every question.",
                field_errors={key: ["Choose an answer."] for key in missing},
            )
        score, passed = rules.score_knowledge_test(answers)
        moment = now()
        attempt = KnowledgeTestAttempt(user_id=user.id, score=score, passed=passed, taken_at=moment)
        session.add(attempt)
        if passed:
            profile = _profile_for_update(session, user.id)
            profile.knowledge_passed_at = moment
            profile.knowledge_score = score
        session.flush()
    return attempt


def simulate_loss_capacity(
    session: Session,
    user_id: int,
    *,
    yearly_net_income_minor: int,
    liquid_assets_minor: int,
    yearly_commitments_minor: int,
) -> InvestorProfile:
    """Record the declared figures; the result (10 % of net worth) is shown to the
    investor and used for the large-investment warning."""
    with command(session):
        user = get_user(session, user_id)
        declared = {
            "yearly_net_income_minor": yearly_net_income_minor,
            "liquid_assets_minor": liquid_assets_minor,
            "yearly_commitments_minor": yearly_commitments_minor,
        }
        errors = {
            name: ["Give a whole amount of zero or more."]
            for name, value in declared.items()
            if type(value) is not int or not 0 <= value <= DECLARED_MAX_MINOR
        }
        if errors:
            raise ValidationFailed("Some figures need attention.", field_errors=errors)
        profile = _profile_for_update(session, user.id)
        for name, value in declared.items():
            setattr(profile, name, value)
        profile.simulated_at = now()
        session.flush()
    return profile


def set_sophisticated(
    session: Session, actor_id: int, user_id: int, *, sophisticated: bool
) -> InvestorProfile:
    """An admin records that an investor met the sophisticated-investor criteria
    (Annex II of the regulation) after checking the evidence, or takes it back."""
    with command(session):
        actor = get_user(session, actor_id)
        require(
            actor.role_names,
            Permission.MANAGE_PEOPLE,
            "Only an admin decides who is a sophisticated investor.",
        )
        get_user(session, user_id)
        profile = _profile_for_update(session, user_id)
        profile.sophisticated = bool(sophisticated)
        profile.sophisticated_set_by_id = actor.id
        session.flush()
    return profile


@dataclass(frozen=True, slots=True)
class InvestmentCheck:
    """What a backer must still do before a loan pledge of `amount_minor` is accepted."""

    sophisticated: bool
    test_valid: bool
    simulation_valid: bool
    net_worth_minor: int | None
    loss_capacity_minor: int | None
    threshold_minor: int | None
    needs_ack: bool

    @property
    def ready(self) -> bool:
        """The appropriateness steps are done (the acknowledgment is per pledge)."""
        return self.sophisticated or (self.test_valid and self.simulation_valid)


def check_investment(session: Session, user_id: int, amount_minor: int) -> InvestmentCheck:
    profile = get_profile(session, user_id)
    moment = now()
    if profile is not None and profile.sophisticated:
        return InvestmentCheck(True, True, True, None, None, None, False)
    test_valid = profile is not None and rules.assessment_valid(profile.knowledge_passed_at, moment)
    simulated = profile is not None and rules.assessment_valid(profile.simulated_at, moment)
    if not simulated or profile is None:
        return InvestmentCheck(False, test_valid, False, None, None, None, False)
    worth = rules.net_worth(
        profile.yearly_net_income_minor,
        profile.liquid_assets_minor,
        profile.yearly_commitments_minor,
    )
    return InvestmentCheck(
        sophisticated=False,
        test_valid=test_valid,
        simulation_valid=True,
        net_worth_minor=worth,
        loss_capacity_minor=rules.loss_capacity(worth),
        threshold_minor=rules.large_investment_threshold(worth),
        needs_ack=rules.needs_large_investment_ack(amount_minor, worth),
    )


def require_appropriate(
    session: Session, user_id: int, amount_minor: int, *, acknowledged: bool
) -> InvestmentCheck:
    """Raise unless the backer may make this loan pledge now. Flushes nothing."""
    check = check_investment(session, user_id, amount_minor)
    if not check.test_valid:
        raise Forbidden(
            "Pass the entry knowledge test before you lend through a campaign "
            "(it is repeated every two years)."
        )
    if not check.simulation_valid:
        raise Forbidden("Simulate your ability to bear loss before you lend through a campaign.")
    if check.needs_ack and not acknowledged:
        raise ValidationFailed(
            "This pledge is more than the higher of 1,000 euro or 5 % of your net worth. "
            "Confirm that you understand the risk.",
            field_errors={"acknowledge_risk": ["Confirm that you understand the risk."]},
        )
    return check
