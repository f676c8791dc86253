"""Crowdlending pages for the investor: the key investment information sheet, the
knowledge test and the loss simulation (the EU crowdfunding regulation's checks before
a non-sophisticated investor may pledge). The routes join the crowdfunding blueprint.
"""

from __future__ import annotations

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank.crowdfunding import (
    investors,
    rules,
)
from p2pbank.crowdfunding.read import crowdlending
from p2pbank.crowdfunding.schemas import LossSimulationForm
from p2pbank.db import db_session
from p2pbank.errors import ValidationFailed
from p2pbank.identity.rules import same_site_path
from p2pbank.web.crowdfunding import bp, viewer_id
from p2pbank.web.forms import form_errors, load_form


@bp.get("/campaigns/<int:campaign_id>/information-sheet")
def information_sheet(campaign_id: int):
    sheet = crowdlending.information_sheet(db_session(), campaign_id, viewer_id())
    return render_template("crowdfunding/information_sheet.html", sheet=sheet)


@bp.get("/investor")
@login_required
def investor():
    return _investor_page({}, {}, 200)


def _investor_page(test_errors: dict, sim_errors: dict, status: int):
    return render_template(
        "crowdfunding/investor.html",
        investor=crowdlending.investor_view(db_session(), current_user.id),
        questions=rules.KNOWLEDGE_TEST,
        test_errors=test_errors,
        sim_errors=sim_errors,
        form=request.form,
        next_url=_safe_next(),
    ), status


def _safe_next() -> str:
    target = same_site_path(request.values.get("next")) or ""
    return target if target.startswith("/campaigns/") else ""


@bp.post("/investor/test")
@login_required
def knowledge_test():
    answers = {
        q.key: request.form.get(q.key, "") for q in rules.KNOWLEDGE_TEST if request.form.get(q.key)
    }
    try:
        attempt = investors.take_knowledge_test(db_session(), current_user.id, answers)
    except ValidationFailed as exc:
        return _investor_page(form_errors(exc), {}, 422)
    if attempt.passed:
        flash(
            _(
                "You passed (%(score)s of 5). The result is valid for two years.",
                score=attempt.score,
            ),
            "success",
        )
    else:
        flash(
            _(
                "%(score)s of 5 correct; you need 4. Read the explanations and try again.",
                score=attempt.score,
            ),
            "warning",
        )
    return redirect(url_for("crowdfunding.investor", next=_safe_next() or None))


@bp.post("/investor/simulation")
@login_required
def simulation():
    data, errors = load_form(LossSimulationForm())
    if data is None:
        return _investor_page({}, errors, 422)
    investors.simulate_loss_capacity(db_session(), current_user.id, **data)
    flash(_("Your ability to bear loss was simulated."), "success")
    target = _safe_next()
    if target:
        return redirect(target)
    return redirect(url_for("crowdfunding.investor"))
