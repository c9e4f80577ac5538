"""The SLA report: per creation month and customer, how many cases met or breached their
response and resolution targets, and the median and p90 working time to first response and
to resolution. The figures come from one aggregate query (queries/report.sql); this module
reads the filters, shapes the rows for the page, the API and the CSV, and lays out the chart
(the page renders it as inline SVG, autoescaped like any template text)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.core import database, formats
from app.core.errors import ValidationFailed
from app.core.i18n import gettext as _
from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "report.sql")

# Months shown when no period is asked for (this one and the ones before), and at most.
DEFAULT_MONTHS = 6
MAX_MONTHS = 36
MONTH_SKELETON = "yMMM"  # CLDR skeleton: abbreviated month and year
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIGURES = ("cases", "response_met", "response_breached", "response_pending", "resolution_met",
           "resolution_breached", "resolution_pending", "response_median", "response_p90",
           "resolution_median", "resolution_p90")
CSV_HEADER = ("month", "customer_id", "customer", *FIGURES)
# A spreadsheet runs a cell starting with one of these as a formula; such text is prefixed with '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Period:
    first: date  # first day of the first month
    last: date  # first day of the last month

    @property
    def end(self) -> date:
        return _add_months(self.last, 1)

    def text(self) -> str:
        """The months in the reader's language: "Jan 2026 to Mar 2026" / "jan. 2026 til mar. 2026"."""
        if self.first == self.last:
            return month_text(self.first)
        return _("%(first)s to %(last)s", first=month_text(self.first), last=month_text(self.last))


def month_text(month: date) -> str:
    """A month as the reader's language writes it short: "Jan 2026" / "jan. 2026"."""
    return formats.format_date(month, MONTH_SKELETON)


def _add_months(d: date, n: int) -> date:
    m = d.year * 12 + d.month - 1 + n
    return date(m // 12, m % 12 + 1, 1)


def _month(value: str, field: str) -> date:
    m = _MONTH.match(value.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise ValidationFailed("%(which)s must be a month as YYYY-MM (2000-2100), not '%(value)s'", field=field,
                               which=field, value=value[:20])
    return date(int(m.group(1)), int(m.group(2)), 1)


def parse_period(first: str | None, last: str | None, today: date) -> Period:
    """The months asked for (YYYY-MM each, both optional): by default the last DEFAULT_MONTHS."""
    last_month = _month(last, "to") if last else date(today.year, today.month, 1)
    first_month = _month(first, "from") if first else _add_months(last_month, 1 - DEFAULT_MONTHS)
    if first_month > last_month:
        raise ValidationFailed("from must not be after to", field="from")
    if _add_months(first_month, MAX_MONTHS) <= last_month:
        raise ValidationFailed("The period is at most %(months)s months", field="from", months=MAX_MONTHS)
    return Period(first_month, last_month)


def db_now() -> datetime:
    return database.execute_query(Q["db_now"])[0]["now"]


def figures(period: Period, customer_id: int | None, tz: str, now: datetime) -> dict[str, Any]:
    """{"months": [...per-month totals...], "rows": [...per month and customer...], "total": {...}}.

    Every month of the period is in "months", with zero cases when none were created then."""
    rows = database.execute_query(Q["sla_report"], {"tz": tz, "start": period.first, "end": period.end,
                                                    "customer_id": customer_id, "now": now})
    for row in rows:
        for key in ("response_median", "response_p90", "resolution_median", "resolution_p90"):
            row[key] = None if row[key] is None else round(row[key], 1)
    by_month = {r["month"]: r for r in rows if r["all_customers"] and not r["all_months"]}
    months, m = [], period.first
    while m <= period.last:
        months.append(by_month.get(m) or {"month": m, **{k: (0 if k.startswith(("cases", "response_", "resolution_"))
                                                               and not k.endswith(("median", "p90")) else None)
                                                         for k in FIGURES}})
        m = _add_months(m, 1)
    total = next((r for r in rows if r["all_months"]), None)
    return {"months": months, "rows": [r for r in rows if not r["all_customers"]], "total": total}


def report_customers() -> list[dict[str, Any]]:
    return database.execute_query(Q["report_customers"])


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def to_csv(data: dict[str, Any]) -> str:
    """The report's rows (per month and customer, then the month totals, then the total) as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in data["rows"]:
        writer.writerow([f"{row['month']:%Y-%m}", _cell(row["customer_id"]),
                         _cell(row["customer_name"] or "(no customer)"), *(_cell(row[k]) for k in FIGURES)])
    for row in data["months"]:
        writer.writerow([f"{row['month']:%Y-%m}", "", "All customers", *(_cell(row[k]) for k in FIGURES)])
    if data["total"]:
        writer.writerow(["all", "", "All customers", *(_cell(data["total"][k]) for k in FIGURES)])
    return out.getvalue()


def minutes_text(minutes: float | None) -> str:
    """Working minutes as "2 h 10 m" / "2 t 10 min" (no days: a working day varies); "—" when
    there are none."""
    if minutes is None:
        return "—"
    hours, rest = divmod(round(minutes), 60)
    if hours and rest:
        return _("%(hours)s h %(minutes)s m", hours=hours, minutes=rest)
    if hours:
        return _("%(hours)s h", hours=hours)
    return _("%(minutes)s m", minutes=rest)


# --- the chart: two stacked bars per month (response, resolution): met, breached, pending ----
CHART_W = 720  # SVG user units
CHART_H = 260
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 12, 16, 48
BAR_W = 14
PARTS = (("met", "#198754"), ("breached", "#dc3545"), ("pending", "#adb5bd"))


def part_label(part: str) -> str:
    """A target's state as the chart and table name it to people."""
    return {"met": _("met"), "breached": _("breached"), "pending": _("pending")}[part]


def _bar_label(month: date, target: str, n: int, part: str) -> str:
    what = _("first response") if target == "response" else _("resolution")
    return _("%(month)s, %(target)s: %(count)s %(state)s", month=month_text(month), target=what, count=n,
             state=part_label(part))


def _nice_max(n: int) -> int:
    """The axis top: n rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if n <= 1:
        return 1
    magnitude = 10 ** (len(str(n)) - 1)
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= n)


def chart(months: list[dict[str, Any]]) -> dict[str, Any]:
    """Rectangles, axis ticks and labels of the chart (numbers and plain text; the template escapes)."""
    top = _nice_max(max((m["cases"] for m in months), default=0))
    plot_h = CHART_H - PLOT_TOP - PLOT_BOTTOM
    slot = (CHART_W - PLOT_LEFT - PLOT_RIGHT) / max(1, len(months))
    bars, labels = [], []
    for i, m in enumerate(months):
        x0 = PLOT_LEFT + i * slot + slot / 2
        labels.append({"x": round(x0, 1), "text": month_text(m["month"])})
        for j, target in enumerate(("response", "resolution")):
            x, y = x0 - BAR_W - 1 + j * (BAR_W + 2), CHART_H - PLOT_BOTTOM
            for part, color in PARTS:
                n = m[f"{target}_{part}"]
                if not n:
                    continue
                h = plot_h * n / top
                y -= h
                bars.append({"x": round(x, 1), "y": round(y, 1), "w": BAR_W, "h": round(h, 1), "color": color,
                             "label": _bar_label(m["month"], target, n, part)})
    ticks = [{"y": round(CHART_H - PLOT_BOTTOM - plot_h * v / top, 1), "value": v}
             for v in sorted({0, top // 2, top})]
    return {"w": CHART_W, "h": CHART_H, "bars": bars, "labels": labels, "ticks": ticks, "left": PLOT_LEFT,
            "right": CHART_W - PLOT_RIGHT, "base": CHART_H - PLOT_BOTTOM,
            "parts": [(part_label(part), color) for part, color in PARTS]}


def zone_of(user) -> str:
    """The user's time zone (months are counted in it), else the hub's."""
    from app.core.config import get_settings

    name = getattr(user, "timezone", None) or get_settings().timezone
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        return "UTC"
    return name
