"""The SLA report: the page (/sag/sla/report, table and SVG chart), its CSV (/sag/sla/report.csv)
and the same figures as JSON (/api/v1/sag/sla/report). For every signed-in user: staff see the
SLA figures of the customers they work for; the figures hold no case content."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from app.core.deps import CurrentUser
from app.core.i18n import gettext as _
from app.core.templating import render
from app.modules.sag.sla import report

router = APIRouter()
api_router = APIRouter(prefix="/sla/report", tags=["sag SLA report"])

Month = Annotated[str | None, Query(max_length=7, description="A month as YYYY-MM")]
CustomerId = Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Only this customer's cases")]


def _figures(user, first: str | None, last: str | None, customer_id: int | None) -> dict[str, Any]:
    tz = report.zone_of(user)
    now = report.db_now()
    period = report.parse_period(first, last, now.astimezone(report.ZoneInfo(tz)).date())
    data = report.figures(period, customer_id, tz, now)
    return data | {"period": period, "tz": tz, "customer_id": customer_id}


def _query(data: dict[str, Any]) -> str:
    parts = [f"from={data['period'].first:%Y-%m}", f"to={data['period'].last:%Y-%m}"]
    if data["customer_id"]:
        parts.append(f"customer_id={data['customer_id']}")
    return "&".join(parts)


@router.get("/sla/report")
def read_report_page(request: Request, user: CurrentUser, from_: Annotated[Month, Query(alias="from")] = None,
                     to: Month = None, customer_id: CustomerId = None):
    data = _figures(user, from_, to, customer_id)
    customers = report.report_customers()
    name = next((c["name"] for c in customers if c["id"] == customer_id), None)
    return render(request, "sag/sla_report.html", data | {
        "chart": report.chart(data["months"]), "customers": customers, "customer_name": name,
        "minutes": report.minutes_text, "month_text": report.month_text, "query": _query(data),
        "is_admin": user.is_admin})


@router.get("/sla/report.csv")
def read_report_csv(user: CurrentUser, from_: Annotated[Month, Query(alias="from")] = None, to: Month = None,
                    customer_id: CustomerId = None) -> Response:
    data = _figures(user, from_, to, customer_id)
    period = data["period"]
    name = f"sla-report-{period.first:%Y-%m}-{period.last:%Y-%m}" + (f"-customer-{customer_id}" if customer_id else "")
    return Response(report.to_csv(data), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {"month": f"{row['month']:%Y-%m}" if row.get("month") else None}
    if "customer_id" in row and not row.get("all_customers", True):
        out |= {"customer_id": row["customer_id"], "customer_name": row["customer_name"]}
    return out | {k: row[k] for k in report.FIGURES}


@api_router.get("")
def read_report(user: CurrentUser, from_: Annotated[Month, Query(alias="from")] = None, to: Month = None,
                customer_id: CustomerId = None) -> dict[str, Any]:
    """Per creation month and customer: cases, response and resolution met / breached / pending,
    median and p90 working minutes to first response and to resolution (paused time not counted)."""
    data = _figures(user, from_, to, customer_id)
    return {"from": f"{data['period'].first:%Y-%m}", "to": f"{data['period'].last:%Y-%m}", "time_zone": data["tz"],
            "customer_id": customer_id, "generated_at": datetime.now().astimezone().isoformat(),
            "months": [_json_row(m) for m in data["months"]], "rows": [_json_row(r) for r in data["rows"]],
            "total": _json_row(data["total"]) if data["total"] else None}


def admin_menu_items(request: Request) -> Markup:
    """The admin menu's entry for the report."""
    return Markup('<li><a class="dropdown-item" href="/sag/sla/report">{}</a></li>').format(_("SLA report"))
