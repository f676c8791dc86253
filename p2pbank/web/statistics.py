"""Public statistics: the loan book, default rates and campaigns, as a page, JSON and CSV.

No sign-in: anyone may check how the platform is doing (Regulation (EU) 2020/1503 art. 20
asks for published default rates; Zopa and Bondora publish their loan books)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from flask import Blueprint, Response, jsonify, render_template

from p2pbank import charts, clock
from p2pbank.db import db_session
from p2pbank.lending.rules import POLICY
from p2pbank.statistics import figures
from p2pbank.statistics.queries import Statistics, statistics

bp = Blueprint("statistics", __name__)

CSV_COLUMNS = (
    "table",
    "period",
    "grade",
    "loans",
    "principal_minor",
    "defaulted_loans",
    "defaulted_minor",
    "running_loans",
    "actual_bps",
    "expected_bps",
)


def _current() -> Statistics:
    return statistics(db_session(), clock.now().date())


@bp.get("/statistics")
def page():
    stats = _current()
    months = _monthly_totals(stats.by_month)[-24:]
    return render_template(
        "statistics/index.html",
        stats=stats,
        months=months,
        bars=charts.bars([(month, total, "") for month, total in months], 600, 160),
        version=figures.EXPECTED_DEFAULT_VERSION,
        window_months=figures.WINDOW_MONTHS,
        default_days=POLICY.default_days,
    )


def _monthly_totals(rows: list[figures.MonthRow]) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.month] = totals.get(row.month, 0) + row.principal_minor
    return sorted(totals.items())


@bp.get("/statistics.json")
def as_json():
    stats = _current()
    return jsonify(
        as_of=stats.today.isoformat(),
        currency=stats.currency,
        summary=asdict(stats.summary),
        issued_by_month=[asdict(r) for r in stats.by_month],
        default_rates=[
            {**asdict(r), "actual_bps": r.actual_bps, "actual_count_bps": r.actual_count_bps}
            for r in stats.defaults
        ],
        default_rate_method={
            "expected_version": figures.EXPECTED_DEFAULT_VERSION,
            "window_months": figures.WINDOW_MONTHS,
        },
        listings={
            "ended": stats.listings_ended,
            "funded": stats.listings_funded,
            "funded_share_bps": stats.funded_share_bps,
        },
        questions={
            "answered_within_24h": stats.questions_answered,
            "counted": stats.questions_counted,
            "answered_share_bps": stats.answered_share_bps,
        },
        campaigns={
            "ended": stats.campaigns_ended,
            "succeeded": stats.campaigns_succeeded,
            "success_bps": stats.campaign_success_bps,
            "raised_minor": stats.raised_minor,
        },
    )


@bp.get("/statistics.csv")
def as_csv():
    stats = _current()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(CSV_COLUMNS)
    for m in stats.by_month:
        writer.writerow(
            ("issued", m.month, m.grade, m.loans, m.principal_minor, "", "", "", "", "")
        )
    for d in stats.defaults:
        writer.writerow(
            (
                "defaults",
                d.vintage,
                d.grade,
                d.loans,
                d.principal_minor,
                d.defaulted_loans,
                d.defaulted_minor,
                d.running_loans,
                d.actual_bps,
                d.expected_bps,
            )
        )
    filename = f"p2pbank-statistics-{stats.today.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
