"""The case list: filters, sorting and pagination.

Only the filters that are set become part of the WHERE clause (fixed fragments composed
with psycopg.sql, values always as parameters), so PostgreSQL plans each combination with
the matching partial index instead of one generic plan full of `x IS NULL OR ...`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg import sql

from app.core import database
from app.core.errors import ValidationFailed
from app.core.queries import load_queries
from app.modules.sag.cases.store import DUE_SOON_HOURS, PRIORITIES, statuses

Q = load_queries(Path(__file__).parent / "queries" / "cases.sql")

MAX_PAGE_SIZE = 200
# Matches are counted exactly up to this many (see search_cases).
COUNT_CAP = 1000
# When the planner expects at least this many matches, the count is skipped (total = COUNT_CAP,
# not exact): finding a thousand matches of a common search word reads ~16,000 long texts (90 ms
# at a million cases), while the planner's estimate of such a filter is good to a few percent.
# Ten times the cap leaves room for a badly wrong estimate; small results are always counted.
COUNT_SKIP_ESTIMATE = 10_000
DEFAULT_PAGE_SIZE = 25
SEARCH_MAX = 200
# Words of a search matched against the notes (more add little but cost).
NOTES_QUERY_WORDS = 8
# Due-within filter bounds, hours (a year at most).
DUE_WITHIN_MAX_HOURS = 24 * 366

_PRIORITY_RANK = "array_position(ARRAY['urgent','high','normal','low']::varchar[], s.priority)"
_SLA_DUE = ("(SELECT sag_sla_running_due(k.first_response_at, k.response_due_at, k.resolution_due_at) "
            "FROM sag_sla_clocks k WHERE k.sag_id = s.id)")
SLA_STATES = ("ok", "warning", "breached", "met", "paused")
# sort key -> ORDER BY over sag_sager s and sag_statuses st (always ending in a unique key).
SORTS: dict[str, str] = {
    "deadline": "s.deadline ASC NULLS LAST, s.id",
    "-deadline": "s.deadline DESC NULLS LAST, s.id DESC",
    "priority": _PRIORITY_RANK + ", s.deadline ASC NULLS LAST, s.id",
    "-priority": _PRIORITY_RANK + " DESC, s.deadline ASC NULLS LAST, s.id",
    "updated": "s.updated_at, s.id",
    "-updated": "s.updated_at DESC, s.id DESC",
    "created": "s.created_at, s.id",
    "-created": "s.created_at DESC, s.id DESC",
    "title": "lower(s.title), s.id",
    "-title": "lower(s.title) DESC, s.id DESC",
    "status": "st.sort_order, s.id",
    "-status": "st.sort_order DESC, s.id DESC",
    "id": "s.id",
    "-id": "s.id DESC",
    # The SLA due time that counts now (cases without an SLA last).
    "sla": _SLA_DUE + " ASC NULLS LAST, s.id",
    "-sla": _SLA_DUE + " DESC NULLS LAST, s.id DESC",
}
DEFAULT_SORT = "-updated"
_CASE_NUMBER = re.compile(r"^#?(\d{1,9})$")


@dataclass
class CaseFilter:
    """What the list shows. `assignee`/`created_by` take a user id, "me" or "none"."""

    statuses: list[str] = field(default_factory=list)
    state: str = "all"  # "open", "closed" or "all"
    assignee: str | None = None
    created_by: str | None = None
    customer_id: int | None = None
    priorities: list[str] = field(default_factory=list)
    overdue: bool | None = None
    due_within_hours: int | None = None
    q: str | None = None
    sla_states: list[str] = field(default_factory=list)  # SLA_STATES, computed at the time of the query


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def notes_query(text: str) -> str:
    """A tsquery for the words of `text` as word prefixes, all required ('ton:* & kas:*'); ''
    when it has no words. Only word characters reach the query, so its syntax cannot be broken."""
    return " & ".join(f"{w}:*" for w in re.findall(r"\w+", text.lower())[:NOTES_QUERY_WORDS])


def _user_ref(value: str | None, me: int, name: str) -> tuple[str, int | None] | None:
    """("id", n) / ("none", None) for an assignee-like filter, None when not filtering."""
    if value is None or value in ("", "any"):
        return None
    if value == "me":
        return ("id", me)
    if value == "none":
        return ("none", None)
    if value.isdigit() and 0 < int(value) < 2**31:
        return ("id", int(value))
    raise ValidationFailed("%(name)s must be a user id, 'me', 'none' or 'any'", field=name, name=name)


def _where(f: CaseFilter, me: int) -> tuple[list[str], dict[str, Any]]:
    conds: list[str] = []
    params: dict[str, Any] = {}
    if f.statuses:
        known = {s["key"] for s in statuses()}
        unknown = [s for s in f.statuses if s not in known]
        if unknown:
            raise ValidationFailed("Unknown status '%(status)s'; use one of: %(known)s", field="status",
                                   status=unknown[0], known=", ".join(sorted(known)))
        conds.append("s.status = ANY(%(statuses)s)")
        params["statuses"] = list(f.statuses)
    if f.state == "open":
        conds.append("s.closed_at IS NULL")
    elif f.state == "closed":
        conds.append("s.closed_at IS NOT NULL")
    elif f.state != "all":
        raise ValidationFailed("state must be 'open', 'closed' or 'all'", field="state")
    for name, column in (("assignee", "assigned_to"), ("created_by", "created_by")):
        ref = _user_ref(getattr(f, name), me, name)
        if ref is None:
            continue
        if ref[0] == "none":
            conds.append(f"s.{column} IS NULL")
        else:
            conds.append(f"s.{column} = %({name})s")
            params[name] = ref[1]
    if f.customer_id is not None:
        conds.append("s.customer_id = %(customer_id)s")
        params["customer_id"] = f.customer_id
    if f.priorities:
        bad = [p for p in f.priorities if p not in PRIORITIES]
        if bad:
            raise ValidationFailed("Unknown priority '%(priority)s'; use one of: %(known)s", field="priority",
                                   priority=bad[0], known=", ".join(PRIORITIES))
        conds.append("s.priority = ANY(%(priorities)s)")
        params["priorities"] = list(f.priorities)
    if f.overdue is True:
        conds.append("s.closed_at IS NULL AND s.deadline < now()")
    elif f.overdue is False:
        conds.append("NOT (s.closed_at IS NULL AND s.deadline IS NOT NULL AND s.deadline < now())")
    if f.due_within_hours is not None:
        if not 1 <= f.due_within_hours <= DUE_WITHIN_MAX_HOURS:
            raise ValidationFailed("due_within_hours must be 1-%(max)s", field="due_within_hours",
                                   max=DUE_WITHIN_MAX_HOURS)
        conds.append("s.closed_at IS NULL AND s.deadline >= now() "
                     "AND s.deadline < now() + make_interval(hours => %(due_within)s)")
        params["due_within"] = f.due_within_hours
    if f.sla_states:
        bad = [x for x in f.sla_states if x not in SLA_STATES]
        if bad:
            raise ValidationFailed("Unknown SLA state '%(state)s'; use one of: %(known)s", field="sla_state",
                                   state=bad[0], known=", ".join(SLA_STATES))
        conds.append("EXISTS (SELECT 1 FROM sag_sla_clocks k WHERE k.sag_id = s.id AND sag_sla_state("
                     "k.response_due_at, k.response_warn_at, k.first_response_at, k.resolution_due_at, "
                     "k.resolution_warn_at, k.paused_since, s.closed_at, now()) = ANY(%(sla_states)s))")
        params["sla_states"] = list(f.sla_states)
    text = (f.q or "").strip()
    if len(text) > SEARCH_MAX:
        raise ValidationFailed("Search text is at most %(max)s characters", field="q", max=SEARCH_MAX)
    if "\x00" in text:
        raise ValidationFailed("Search text must not contain NUL (\\0) characters", field="q")
    if text:
        number = _CASE_NUMBER.match(text)
        # search_text is lower(title || ' ' || description), indexed with trigrams; notes_search
        # the words of the case's notes (conversation/functions/sag_notes_activity.sql).
        search = "s.search_text LIKE lower(%(q_like)s)"
        words = notes_query(text)
        if words:
            search = f"({search} OR s.notes_search @@ to_tsquery('simple', %(q_words)s))"
            params["q_words"] = words
        if number:
            conds.append(f"({search} OR s.id = %(q_id)s)")
            params["q_id"] = int(number.group(1))
        else:
            conds.append(search)
        params["q_like"] = _like_pattern(text)
    return conds, params


def search_cases(f: CaseFilter, me: int, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE,
                 sort: str = DEFAULT_SORT) -> dict[str, Any]:
    """One page of cases: {items, total, total_exact, page, page_size, pages, has_next, sort}.

    `total` is exact up to COUNT_CAP; beyond it counting stops (total = COUNT_CAP,
    total_exact = false), because an exact count of a large result costs more than the
    page itself and nobody pages through thousands of cases. When the planner expects
    COUNT_SKIP_ESTIMATE matches or more, nothing is counted at all (same answer, no cost).
    """
    if sort not in SORTS:
        raise ValidationFailed("Unknown sort '%(sort)s'; use one of: %(known)s", field="sort",
                              sort=sort, known=", ".join(SORTS))
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    conds, params = _where(f, me)
    where = sql.SQL(" AND ".join(conds) if conds else "TRUE")
    page_query = sql.SQL(Q["search_cases"]).format(where=where, order=sql.SQL(SORTS[sort]))
    count_query = sql.SQL(Q["count_cases"]).format(where=where)
    offset = (page - 1) * page_size
    estimate_query = sql.SQL(Q["estimate_cases"]).format(where=where)
    with database.transaction():
        rows = database.execute_query(page_query, {**params, "limit": page_size, "offset": offset,
                                                   "due_soon_hours": DUE_SOON_HOURS})
        plan = database.execute_query(estimate_query, params)[0]["QUERY PLAN"]
        if plan[0]["Plan"]["Plan Rows"] >= COUNT_SKIP_ESTIMATE:
            counted = COUNT_CAP + 1
        else:
            counted = database.execute_query(count_query, {**params, "cap": COUNT_CAP + 1})[0]["n"]
    exact = counted <= COUNT_CAP
    total = min(counted, COUNT_CAP)
    return {"items": rows, "total": total, "total_exact": exact, "page": page, "page_size": page_size,
            "pages": max(1, -(-total // page_size)),
            "has_next": len(rows) == page_size and (offset + page_size < total or not exact), "sort": sort}
