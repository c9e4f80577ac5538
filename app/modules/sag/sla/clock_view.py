"""The case page's live SLA clocks: per clock (first response, resolution) its state, due and
warn instants, and the calendar's open spans until the due time, so the browser can count the
working time left second by second without asking the server (static/sla_clocks.js); it asks
again every minute and when a notification about the case arrives. Also `GET /api/v1/sag/{id}/sla`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from app.core import database
from app.core.deps import CurrentUser
from app.core.errors import NotFound
from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "clocks.sql")
router = APIRouter(tags=["sag SLA"])

# Open spans sent to the browser at most (a due time months away still counts right until
# the next refresh, which sends the spans from then on).
MAX_SPANS = 400
# How often the page asks the server again, seconds.
REFRESH_S = 60


def _clock(kind: str, due: datetime | None, warn: datetime | None, done: datetime | None,
           paused_since: datetime | None, now: datetime) -> dict[str, Any] | None:
    """One clock: `done` is when it was fulfilled (first response, or closing), `paused_since`
    when it stands still (resolution only)."""
    if due is None:
        return None
    clock = {"kind": kind, "due_at": due, "warn_at": warn, "done_at": done, "paused_since": paused_since,
             "running": False}
    if done is not None:
        clock["state"] = "breached" if done > due else "met"
    elif paused_since is not None:
        clock["state"] = "breached" if paused_since > due else "paused"
    elif now > due:
        clock["state"] = "breached"
        clock["running"] = True  # "breached since" keeps counting
    else:
        clock["state"] = "warning" if warn is not None and now >= warn else "ok"
        clock["running"] = True
    return clock


def case_clocks(case_id: int) -> dict[str, Any]:
    """{"case_id", "version", "now", "clocks": [response, resolution] (None when the case has no
    SLA), "spans": [[start, end], ...], "paused_minutes_left", "refresh_s"}."""
    rows = database.execute_query(Q["case_clock"], {"id": case_id})
    if not rows:
        raise NotFound("Case %(id)s not found", id=case_id)
    r = rows[0]
    now = r["now"]
    # The response clock never pauses; a case closed unanswered counts its closing as the answer.
    response = _clock("response", r["response_due_at"], r["response_warn_at"],
                      r["first_response_at"] or r["closed_at"], None, now)
    resolution = _clock("resolution", r["resolution_due_at"], r["resolution_warn_at"], r["closed_at"],
                        r["paused_since"] if r["closed_at"] is None else None, now)
    clocks = [c for c in (response, resolution) if c is not None]
    spans = []
    running = [c["due_at"] for c in clocks if c["running"] and c["state"] != "breached"]
    if running and r["calendar_id"] is not None:
        spans = [[s["start_at"], s["end_at"]] for s in database.execute_query(
            Q["open_spans"], {"cal": r["calendar_id"], "from": now, "until": max(running), "limit": MAX_SPANS})]
    return {"case_id": r["id"], "version": r["version"], "now": now, "clocks": clocks, "spans": spans,
            "paused_minutes_left": r["paused_minutes_left"], "refresh_s": REFRESH_S}


Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]


@router.get("/{case_id}/sla")
def read_case_clocks(case_id: Id, user: CurrentUser) -> dict[str, Any]:
    """The case's SLA clocks (state, due and warn instants, working seconds left) with the
    calendar's open spans up to their due times (the case page counts down on them)."""
    return page_payload(case_clocks(case_id))


class Instant(str):
    """An instant as ISO text (what JSON carries) that keeps its datetime in `at`, so the case
    page can show it in the reader's zone and language from the same payload."""

    at: datetime


def _iso(value: Any) -> Any:
    if not isinstance(value, datetime):
        return value
    text = Instant(value.astimezone(UTC).isoformat())
    text.at = value
    return text


def seconds_left(spans: list[list[datetime]], start: datetime, due: datetime) -> float:
    """Open seconds of the spans between start and due (what the browser counts too)."""
    return sum(max(0.0, (min(e, due) - max(s, start)).total_seconds()) for s, e in spans)


def page_payload(data: dict[str, Any]) -> dict[str, Any]:
    """The clocks as the case page's partial and script use them: ISO times, and the working
    seconds left of each running clock (also what the page shows before the script runs)."""
    clocks = []
    for c in data["clocks"]:
        c = dict(c)
        if c["state"] in ("ok", "warning"):
            c["left_s"] = seconds_left(data["spans"], data["now"], c["due_at"])
        elif c["state"] == "paused":
            c["left_s"] = (data["paused_minutes_left"] or 0) * 60
        elif c["running"]:
            c["over_s"] = (data["now"] - c["due_at"]).total_seconds()
        clocks.append({k: _iso(v) for k, v in c.items()})
    return {"case_id": data["case_id"], "version": data["version"], "now": _iso(data["now"]), "clocks": clocks,
            "spans": [[_iso(s), _iso(e)] for s, e in data["spans"]], "refresh_s": data["refresh_s"]}
