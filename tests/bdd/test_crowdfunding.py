"""Step code for features/crowdfunding. People act through their own browsers on the real
pages; the scheduled job runs as `flask tick` runs it (p2pbank.jobs.run_due_work). After
every scenario the ledger check must pass."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pytest_bdd import given, scenarios, then, when
from sqlalchemy import select

from p2pbank import clock, jobs
from p2pbank.crowdfunding import rewards, services
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignEvent,
    CampaignStatus,
    Pledge,
    PledgeStatus,
    RewardTier,
)
from p2pbank.crowdfunding.read import progress as read_progress
from p2pbank.crowdfunding.rules import KNOWLEDGE_TEST
from p2pbank.ledger.checks import check_ledger
from p2pbank.payments.sandbox_gateway import SandboxGateway
from tests.support.mail import notification_mails
from tests.support.stories import MONTHS, phrase, shown_money

scenarios("crowdfunding/")

STORY = "## What we make\n\nA wood-fired oven for the whole street."


@pytest.fixture(autouse=True)
def _ledger_holds_after_every_scenario(session):
    """The issue's rule: the ledger check passes after every scenario."""
    yield
    session.rollback()
    report = check_ledger(session)
    assert report.ok, report.violations


def _key() -> str:
    import uuid

    return uuid.uuid4().hex


def _campaign(session, title: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.title == title))
    assert campaign is not None, f"no campaign called {title!r}"
    session.refresh(campaign)
    return campaign


def _tier(session, campaign: Campaign, title: str) -> RewardTier:
    tier = session.scalar(
        select(RewardTier).where(RewardTier.campaign_id == campaign.id, RewardTier.title == title)
    )
    assert tier is not None, f"no reward called {title!r}"
    return tier


def _pledge_of(session, story, name: str, title: str) -> Pledge:
    campaign = _campaign(session, title)
    pledge = session.scalar(
        select(Pledge)
        .where(Pledge.campaign_id == campaign.id, Pledge.backer_id == story.person(name).id)
        .order_by(Pledge.id.desc())
    )
    assert pledge is not None, f"{name} has no pledge to {title!r}"
    session.refresh(pledge)
    return pledge


def _browser(story, name: str):
    """The person's browser, signed in."""
    browser = story.browser(name)
    if browser.get("/dashboard").status_code != 200:
        response = browser.login(story.person(name).email)
        assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def _money_text(minor: int) -> str:
    whole, cents = divmod(minor, 100)
    return f"{whole}.{cents:02d}"


def _page(story, name: str, path: str) -> str:
    response = _browser(story, name).get(path)
    story.remember(name, response)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


# --- campaigns --------------------------------------------------------------------------------


def _live_campaign(session, story, name, title, goal, days, **extra):
    person = story.person(name)
    campaign = services.create_campaign(
        session,
        person.id,
        title=title,
        summary=f"{title}: a project for the neighbourhood.",
        category="community",
        goal_minor=goal,
        duration_days=days,
        story_md=STORY,
        **extra,
    )
    services.launch_campaign(session, person.id, campaign.id)


@given(
    phrase(
        '{name:Name} has a live campaign "{title}" with a goal of EUR {goal:Amount} '
        "ending in {days:d} days"
    )
)
def _has_live_campaign(session, story, name, title, goal, days):
    _live_campaign(session, story, name, title, goal, days)


@given(
    phrase(
        '{name:Name} has a live keep-it-all campaign "{title}" with a goal of EUR {goal:Amount} '
        "ending in {days:d} days"
    )
)
def _has_keep_it_all(session, story, name, title, goal, days):
    _live_campaign(session, story, name, title, goal, days, funding_model="keep_it_all")


@given(
    phrase(
        '{name:Name} has a live loan campaign "{title}" borrowing EUR {goal:Amount} '
        "at {rate}% for {months:d} months"
    )
)
def _has_loan_campaign(session, story, name, title, goal, rate, months):
    whole, _, frac = rate.partition(".")
    _live_campaign(
        session,
        story,
        name,
        title,
        goal,
        30,
        kind="loan",
        loan_rate_bps=int(whole) * 100 + int((frac + "00")[:2]),
        loan_term_months=months,
        owner_legal_name=f"{title} B.V.",
        owner_registration="KvK 12345678",
        risks_md="Sales may fall short of the plan, and the loan may not be repaid in full.",
    )


@given(
    phrase('"{title}" offers the reward "{reward}" for EUR {amount:Amount} limited to {limit:d}')
)
def _offers_limited(session, story, title, reward, amount, limit):
    campaign = _campaign(session, title)
    rewards.add_tier(
        session,
        campaign.initiator_id,
        campaign.id,
        title=reward,
        min_pledge_minor=amount,
        quantity_limit=limit,
        delivery_month=date(2027, 3, 1),
    )


@given(
    phrase(
        '"{title}" offers the reward "{reward}" for EUR {amount:Amount} delivered in '
        "{month} {year:d}"
    )
)
def _offers_delivered(session, story, title, reward, amount, month, year):
    campaign = _campaign(session, title)
    rewards.add_tier(
        session,
        campaign.initiator_id,
        campaign.id,
        title=reward,
        min_pledge_minor=amount,
        delivery_month=date(year, MONTHS[month], 1),
    )


@when(
    phrase(
        '{name:Name} starts a campaign "{title}" with a goal of EUR {goal:Amount} for {days:d} days'
    )
)
def _starts_campaign(story, name, title, goal, days):
    _start(story, name, title, STORY, _money_text(goal), days)


@when(phrase('{name:Name} starts a campaign "{title}" with the story "{text}"'))
def _starts_with_story(story, name, title, text):
    _start(story, name, title, text, "500.00", 30)


def _start(story, name, title, text, goal, days):
    response = _browser(story, name).submit(
        "/campaigns/new",
        {
            "title": title,
            "summary": f"{title}: a project for the neighbourhood.",
            "story_md": text,
            "category": "food",
            "goal": goal,
            "currency": "EUR",
            "duration_days": str(days),
            "funding_model": "all_or_nothing",
            "kind": "reward",
        },
    )
    story.remember(name, response)
    assert response.status_code == 302, response.get_data(as_text=True)


@when(phrase('{name:Name} adds the reward "{reward}" for EUR {amount:Amount} limited to {limit:d}'))
def _adds_reward(session, story, name, reward, amount, limit):
    campaign = session.scalar(
        select(Campaign)
        .where(Campaign.initiator_id == story.person(name).id)
        .order_by(Campaign.id.desc())
    )
    response = _browser(story, name).submit(
        f"/campaigns/{campaign.id}/edit",
        {
            "title": reward,
            "min_pledge": _money_text(amount),
            "quantity_limit": str(limit),
            "delivery_month": "2027-03",
        },
        action=f"/campaigns/{campaign.id}/tiers",
    )
    assert response.status_code == 302


@when(phrase('{name:Name} launches "{title}"'))
def _launches(session, story, name, title):
    campaign = _campaign(session, title)
    response = _browser(story, name).submit(
        f"/campaigns/{campaign.id}/edit", {}, action=f"/campaigns/{campaign.id}/launch"
    )
    assert response.status_code == 302
    assert "/edit" not in response.headers["Location"], "the launch was refused"


@then(phrase('"{title}" is live and ends on {day:d} {month} {year:d}'))
def _is_live(session, title, day, month, year):
    campaign = _campaign(session, title)
    assert campaign.status == CampaignStatus.LIVE
    assert campaign.deadline_at.date() == date(year, MONTHS[month], day)


@then(phrase('the page of "{title}" shows the reward "{reward}" with {left:d} of {limit:d} left'))
def _reward_left(session, story, title, reward, left, limit):
    campaign = _campaign(session, title)
    page = story.browser("_visitor").get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert reward in page
    assert f"{left} of {limit} left" in page


@then(phrase('the page of "{title}" shows the reward "{reward}" as sold out'))
def _reward_sold_out(session, story, title, reward):
    campaign = _campaign(session, title)
    page = story.browser("_visitor").get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    block = page[page.index(f"<h3>{reward}</h3>") :]
    assert "sold out" in block[: block.index("</article>")]


@then(phrase('the goal of "{title}" can no longer be changed'))
def _goal_locked(session, story, title):
    campaign = _campaign(session, title)
    page = _page(story, "Ian", f"/campaigns/{campaign.id}/edit")
    assert "locked now that the campaign is live" in page
    assert 'id="f-goal"' not in page


@then(phrase('the story of "{title}" contains no script and no javascript link'))
def _story_inert(session, story, title):
    campaign = _campaign(session, title)
    page = _page(story, "Ian", f"/campaigns/{campaign.id}")
    story_html = page[page.index('class="card cf-story"') :]
    story_html = story_html[: story_html.index("</section>")]
    assert "<script" not in story_html and "javascript:" not in story_html
    assert "Hi" in story_html


# --- pledges ----------------------------------------------------------------------------------


def _submit_pledge(session, story, name, title, amount, reward=None, **extra):
    campaign = _campaign(session, title)
    data = {"amount": _money_text(amount), "idempotency_key": _key(), **extra}
    if reward:
        data["tier_id"] = str(_tier(session, campaign, reward).id)
    response = _browser(story, name).submit(f"/campaigns/{campaign.id}/pledge", data)
    story.remember(name, response)
    return response


@given(phrase('{name:Name} pledges EUR {amount:Amount} to "{title}"'))
@when(phrase('{name:Name} pledges EUR {amount:Amount} to "{title}"'))
def _pledges(session, story, name, amount, title):
    response = _submit_pledge(session, story, name, title, amount)
    assert response.status_code == 302, response.get_data(as_text=True)


@given(phrase('{name:Name} pledges EUR {amount:Amount} to "{title}" for the reward "{reward}"'))
@when(phrase('{name:Name} pledges EUR {amount:Amount} to "{title}" for the reward "{reward}"'))
def _pledges_for_reward(session, story, name, amount, title, reward):
    response = _submit_pledge(session, story, name, title, amount, reward)
    assert response.status_code == 302, response.get_data(as_text=True)


@when(
    phrase('{name:Name} tries to pledge EUR {amount:Amount} to "{title}" for the reward "{reward}"')
)
def _tries_reward(session, story, name, amount, title, reward):
    _submit_pledge(session, story, name, title, amount, reward)


@given(phrase('{name:Name} pledges EUR {amount:Amount} to "{title}" by card {card}'))
@when(phrase('{name:Name} pledges EUR {amount:Amount} to "{title}" by card {card}'))
def _pledges_by_card(session, story, name, amount, title, card):
    response = _submit_pledge(session, story, name, title, amount, method="card")
    assert response.status_code == 302, response.get_data(as_text=True)
    card_page = response.headers["Location"]
    assert "/card" in card_page
    browser = _browser(story, name)
    saved = browser.submit(card_page, {"card_number": card})
    story.remember(name, saved)
    assert saved.status_code == 302, saved.get_data(as_text=True)


@when(phrase('{name:Name} changes the pledge to "{title}" to EUR {amount:Amount}'))
def _changes(session, story, name, title, amount):
    pledge = _pledge_of(session, story, name, title)
    response = _browser(story, name).submit(
        f"/pledges/{pledge.id}/change",
        {"amount": _money_text(amount), "tier_id": str(pledge.tier_id or "")},
    )
    story.remember(name, response)


@when(phrase('{name:Name} cancels the pledge to "{title}"'))
def _cancels(session, story, name, title):
    pledge = _pledge_of(session, story, name, title)
    response = _browser(story, name).submit("/pledges", {}, action=f"/pledges/{pledge.id}/cancel")
    assert response.status_code == 302


@then(
    phrase(
        'the progress of "{title}" shows EUR {firm:Amount} firm and EUR {pending:Amount} pending'
    )
)
def _progress_split(session, story, title, firm, pending):
    campaign = _campaign(session, title)
    page = story.browser("_visitor").get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"firm: {shown_money(story, firm)}" in page
    assert f"charged only on success): {shown_money(story, pending)}" in page
    assert f"{shown_money(story, firm + pending)}</strong> pledged" in page


# --- the deadline and the job -----------------------------------------------------------------


def _run_job(session) -> dict:
    return jobs.run_due_work(session, clock.now())


@given(phrase('the deadline of "{title}" passes and the settlement job runs'))
@when(phrase('the deadline of "{title}" passes and the settlement job runs'))
def _deadline_passes(session, title):
    campaign = _campaign(session, title)
    clock.set_now(campaign.deadline_at)
    _run_job(session)


@when(phrase("the settlement job runs"))
def _job_runs(session):
    _run_job(session)


@then(phrase('"{title}" has succeeded'))
def _succeeded(session, title):
    assert _campaign(session, title).status == CampaignStatus.SUCCEEDED


@then(phrase('"{title}" has failed'))
def _failed(session, title):
    assert _campaign(session, title).status == CampaignStatus.FAILED


@then(phrase('"{title}" is collecting'))
def _collecting(session, title):
    assert _campaign(session, title).status == CampaignStatus.COLLECTING


@then(phrase("no card was charged"))
def _no_card_charged(session):
    gateway = SandboxGateway(session, webhook_secret="whsec_unused_for_reading")
    assert list(gateway.list_payments()) == []


@then(phrase('{first:Name} and {second:Name} were told that "{title}" did not reach its goal'))
def _told_missed(session, story, first, second, title):
    for name in (first, second):
        mails = notification_mails(session, story.person(name).email)
        told = [m for m in mails if m.subject.startswith(f"“{title}” did not reach its goal")]
        assert len(told) == 1 and "nobody is charged" in told[0].subject


@then(
    phrase(
        '{name:Name}\'s payout statement for "{title}" shows a platform fee of EUR '
        "{platform:Amount}, card fees of EUR {cards:Amount} and EUR {net:Amount} paid out"
    )
)
def _statement(session, story, name, title, platform, cards, net):
    campaign = _campaign(session, title)
    page = _page(story, name, f"/campaigns/{campaign.id}/dashboard")
    assert "Payout statement" in page and "(projection)" not in page
    assert f'data-fee="platform">−{shown_money(story, platform)}' in page
    assert f'data-fee="processing">−{shown_money(story, cards)}' in page
    assert f"data-net>{shown_money(story, net)}" in page


@then(phrase('{name:Name}\'s pledge to "{title}" waits for a new card'))
def _waits_for_card(session, story, name, title):
    assert _pledge_of(session, story, name, title).status == PledgeStatus.ERRORED
    assert "Fix my card" in _page(story, name, "/pledges")


@then(phrase('{name:Name}\'s pledge to "{title}" was dropped'))
def _dropped(session, story, name, title):
    assert _pledge_of(session, story, name, title).status == PledgeStatus.DROPPED


@when(phrase('{name:Name} fixes the card for "{title}" with {card}'))
def _fixes_card(session, story, name, title, card):
    pledge = _pledge_of(session, story, name, title)
    path = f"/pledges/{pledge.id}/card"
    browser = _browser(story, name)
    assert "Your card was declined" in browser.get(path).get_data(as_text=True)
    response = browser.submit(path, {"card_number": card})
    story.remember(name, response)
    assert response.status_code == 302, response.get_data(as_text=True)


# --- crowdlending -----------------------------------------------------------------------------


@when(phrase('{name:Name} opens the information sheet of "{title}"'))
def _opens_sheet(session, story, name, title):
    campaign = _campaign(session, title)
    _page(story, name, f"/campaigns/{campaign.id}/information-sheet")


@given(
    phrase("{name:Name} passed the knowledge test and declared a net worth of EUR {worth:Amount}")
)
def _passed_test(story, name, worth):
    browser = _browser(story, name)
    answers = {q.key: q.answer for q in KNOWLEDGE_TEST}
    assert browser.submit("/investor", answers, action="/investor/test").status_code == 302
    response = browser.submit(
        "/investor",
        {
            "yearly_net_income": _money_text(worth),
            "liquid_assets": "0",
            "yearly_commitments": "0",
        },
        action="/investor/simulation",
    )
    assert response.status_code == 302


@when(phrase('{name:Name} tries to lend EUR {amount:Amount} to "{title}"'))
def _tries_to_lend(session, story, name, amount, title):
    _submit_pledge(session, story, name, title, amount)


@when(phrase('{name:Name} lends EUR {amount:Amount} to "{title}"'))
def _lends(session, story, name, amount, title):
    response = _submit_pledge(session, story, name, title, amount)
    assert response.status_code == 302, response.get_data(as_text=True)


@when(phrase('{name:Name} lends EUR {amount:Amount} to "{title}" and confirms the risk'))
def _lends_confirmed(session, story, name, amount, title):
    response = _submit_pledge(session, story, name, title, amount, acknowledge_risk="true")
    assert response.status_code == 302, response.get_data(as_text=True)


@then(phrase('the progress of "{title}" shows EUR {amount:Amount} that may still be revoked'))
def _revocable(session, story, title, amount):
    campaign = _campaign(session, title)
    page = story.browser("_visitor").get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"{shown_money(story, amount)} of it may still be revoked" in page


@when(phrase('{name:Name} revokes the pledge to "{title}"'))
def _revokes(session, story, name, title):
    pledge = _pledge_of(session, story, name, title)
    response = _browser(story, name).submit("/pledges", {}, action=f"/pledges/{pledge.id}/revoke")
    story.remember(name, response)
    assert response.status_code == 302


@then(phrase('{name:Name}\'s pledge to "{title}" was revoked'))
def _was_revoked(session, story, name, title):
    assert _pledge_of(session, story, name, title).status == PledgeStatus.REVOKED


@then(phrase('{name:Name} can no longer revoke the pledge to "{title}"'))
def _cannot_revoke(session, story, name, title):
    pledge = _pledge_of(session, story, name, title)
    page = _page(story, name, "/pledges")
    assert "Revoke (reflection period)" not in page
    response = _browser(story, name).submit("/pledges", {}, action=f"/pledges/{pledge.id}/revoke")
    assert response.status_code == 409
    assert "reflection period of this pledge is over" in response.get_data(as_text=True)


# --- updates, comments, rewards ---------------------------------------------------------------


@when(phrase('{name:Name} posts the backers-only update "{title_}" saying "{text}"'))
def _posts_update(session, story, name, title_, text):
    campaign = session.scalar(
        select(Campaign).where(Campaign.initiator_id == story.person(name).id)
    )
    response = _browser(story, name).submit(
        f"/campaigns/{campaign.id}/dashboard",
        {"title": title_, "body_md": text, "visibility": "backers"},
        action=f"/campaigns/{campaign.id}/updates",
    )
    assert response.status_code == 302


def _campaign_page(session, story, name, title) -> str:
    return _page(story, name, f"/campaigns/{_campaign(session, title).id}")


@then(phrase('{name:Name} reads "{text}" on the page of "{title}"'))
def _reads(session, story, name, text, title):
    assert text in _campaign_page(session, story, name, title)


@then(phrase('{name:Name} cannot read "{text}" on the page of "{title}"'))
def _cannot_read(session, story, name, text, title):
    assert text not in _campaign_page(session, story, name, title)


@when(phrase('{name:Name} comments "{text}" on "{title}"'))
def _comments(session, story, name, text, title):
    campaign = _campaign(session, title)
    response = _browser(story, name).submit(
        f"/campaigns/{campaign.id}", {"body": text}, action=f"/campaigns/{campaign.id}/comments"
    )
    assert response.status_code == 302


@when(phrase('{name:Name} replies "{text}" to the comment on "{title}"'))
def _replies(session, story, name, text, title):
    campaign = _campaign(session, title)
    page = _campaign_page(session, story, name, title)
    parent = re.search(r'name="parent_id" value="(\d+)"', page).group(1)
    response = _browser(story, name).submit(
        f"/campaigns/{campaign.id}",
        {"body": text, "parent_id": parent},
        action=f"/campaigns/{campaign.id}/comments",
    )
    assert response.status_code == 302


@then(phrase('the reply "{text}" on "{title}" is marked as the initiator\'s'))
def _reply_marked(session, story, text, title):
    campaign = _campaign(session, title)
    page = story.browser("_visitor").get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    reply = page[page.index('<div class="cf-reply cf-by-initiator">') :]
    reply = reply[: reply.index("</div>")]
    assert text in reply and "initiator" in reply


@when(phrase('{name:Name} marks the reward "{reward}" of "{title}" shipped'))
def _marks_shipped(session, story, name, reward, title):
    campaign = _campaign(session, title)
    tier = _tier(session, campaign, reward)
    response = _browser(story, name).submit(
        f"/campaigns/{campaign.id}/dashboard", {}, action=f"/tiers/{tier.id}/ship"
    )
    assert response.status_code == 302


@when(phrase('{name:Name} confirms receipt of the reward from "{title}"'))
def _confirms_receipt(session, story, name, title):
    pledge = _pledge_of(session, story, name, title)
    response = _browser(story, name).submit("/pledges", {}, action=f"/pledges/{pledge.id}/received")
    assert response.status_code == 302


@then(phrase("{name:Name}'s record shows {good:d} confirmed delivery out of {total:d}"))
def _record(session, story, name, good, total):
    ratings = read_progress.initiator_ratings(session, [story.person(name).id])
    assert ratings[story.person(name).id] == (good, total)
    campaign = session.scalar(
        select(Campaign).where(Campaign.initiator_id == story.person(name).id)
    )
    page = story.browser("_visitor").get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"{good} of {total} rewards confirmed received" in page


@then(phrase('the trust record of {name:Name} shows the reward "{reward}" as overdue'))
def _overdue(session, story, name, reward):
    events = session.scalars(
        select(CampaignEvent).where(
            CampaignEvent.subject_id == story.person(name).id,
            CampaignEvent.kind == "delivery_overdue",
        )
    ).all()
    assert len(events) == 1
    tier = session.get(RewardTier, events[0].tier_id)
    assert tier.title == reward
