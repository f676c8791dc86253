"""When a mail is tried again, and the catalogue of notification kinds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from p2pbank.mail import rules
from p2pbank.notifications import kinds

T0 = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempts", "status", "wait_minutes"),
    [
        (1, "queued", 1),
        (2, "queued", 4),
        (3, "queued", 16),
        (4, "queued", 64),
        (5, "queued", 256),
        (6, "failed", None),
        (7, "failed", None),
    ],
)
def test_back_off_then_fail(attempts, status, wait_minutes):
    after = rules.after_failure(attempts, T0)
    assert after.status == status
    expected = T0 + timedelta(minutes=wait_minutes) if wait_minutes else None
    assert after.next_attempt_at == expected


def test_a_permanent_refusal_fails_at_once():
    assert rules.after_failure(1, T0, permanent=True) == rules.Next("failed", None)


def test_only_unsent_mail_may_be_sent_again():
    assert rules.may_retry("failed") and rules.may_retry("queued")
    assert not rules.may_retry("sent")


PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_kind_is_grouped_labelled_and_shows_money_and_dates():
    assert sum(len(group) for _name, group in kinds.by_group()) == len(kinds.KINDS)
    for kind in kinds.KINDS.values():
        assert kind.group in kinds.GROUPS and kind.label and "%" not in kind.label
        names = set(PLACEHOLDER.findall(kind.text))
        assert not {n for n in names if n.endswith("_minor")}, kind.name  # shown as money


@pytest.mark.parametrize(
    "params",
    [{"amount_minor": 1}, {"x": [1]}, {"x": {"a": 1}}, {"x": 1.5}],
)
def test_parameters_are_plain_and_money_has_a_currency(params):
    with pytest.raises(ValueError):
        kinds.check_params("repayment_received", params)


@pytest.mark.parametrize("link", ["/ok", "/lending/loans/3", None])
def test_links_stay_on_the_site(link):
    kinds.check_link(link)


@pytest.mark.parametrize("link", ["https://x.test/", "//x.test", "x", "/a\\b", "/" + "a" * 300])
def test_links_elsewhere_are_refused(link):
    with pytest.raises(ValueError):
        kinds.check_link(link)
