"""How a page shows a refusal: on its form under the form's field names, or as an error
page for another person's object (404) and a forbidden action (403), unless the page says
otherwise. The pages rely on these rules, so each is written down once here."""

from __future__ import annotations

import pytest

from p2pbank.errors import Conflict, Forbidden, NotFound, ValidationFailed
from p2pbank.web.forms import (
    ALL_BUT_CONFLICTS,
    SERVER_ERRORS,
    form_errors,
    form_errors_with_summary,
    form_key,
    new_form_key,
    refused,
)


def test_field_errors_under_the_forms_names():
    refusal = ValidationFailed.on("amount_minor", "Too much.")
    assert form_errors(refusal, renamed={"amount_minor": "amount"}) == {"amount": ["Too much."]}


def test_a_refusal_of_no_field_goes_above_the_form_or_beside_its_one_field():
    assert form_errors(Conflict("Too late.")) == {"_": ["Too late."]}
    assert form_errors(Conflict("Wrong code."), no_field="code") == {"code": ["Wrong code."]}


def test_fields_the_form_does_not_show_go_above_it():
    errors = {"value": ["Pick 1 to 5."], "kept_schedule": ["Not for this side."]}
    assert form_errors(errors, shown=["value", "comment"]) == {
        "value": ["Pick 1 to 5."],
        "_": ["Not for this side."],
    }


@pytest.mark.parametrize("refusal", [NotFound("No such loan."), Forbidden("Not yours.")])
def test_404_and_403_stay_error_pages(refusal):
    with pytest.raises(type(refusal)):
        form_errors(refusal)
    assert form_errors(refusal, error_pages=SERVER_ERRORS) == {"_": [refusal.detail]}


def test_pages_that_show_only_conflicts_and_refused_fields():
    assert form_errors(Conflict("Used code."), error_pages=ALL_BUT_CONFLICTS) == {
        "_": ["Used code."]
    }
    with pytest.raises(Forbidden):
        form_errors(Forbidden("Keep it on."), error_pages=ALL_BUT_CONFLICTS)


def test_the_summary_repeats_the_reason_above_a_long_form():
    refusal = ValidationFailed.on("goal_minor", "Too small.")
    assert form_errors_with_summary(refusal, renamed={"goal_minor": "goal"}) == {
        "goal": ["Too small."],
        "_": ["Too small."],
    }


def test_a_form_shown_again_repeats_its_key(app):
    with app.test_request_context("/", method="POST", data={"idempotency_key": "k-1"}):
        assert form_key() == "k-1"
        assert new_form_key() != "k-1"
    with app.test_request_context("/"):
        assert len(form_key()) == 32
        assert form_key({"idempotency_key": "k-2"}) == "k-2"


def test_a_refused_button_flashes_on_its_page(app):
    with app.test_request_context("/"):
        response = refused(Conflict("Already cancelled."), "main.dashboard")
        assert response.status_code == 302
        with pytest.raises(NotFound):
            refused(NotFound("No such order."), "main.dashboard")
