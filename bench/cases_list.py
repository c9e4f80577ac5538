"""Benchmark: the case list API at 100,000 cases.

Starts a throwaway embedded PostgreSQL in a temporary directory (never ./var), applies the
migrations, fills CASES cases (realistic titles, ~8 % open, 25 technicians, 400
customers) with NOTES notes each (default 5: 500,000 notes; the text search also
searches them), then calls GET /api/v1/sag in-process REQUESTS times for each of three
queries -- my open cases, overdue cases, text search -- and prints one JSON line:

    {"cases": 100000, "notes": 500000, "requests_per_query": 200, "p50_ms": ..., "p95_ms": ...,
     "queries": {"my_open": {"p50_ms": ..., "p95_ms": ..., "matches": ...}, ...}}

("matches" is the list's `total`, which counts exactly up to 1000, see cases_list.COUNT_CAP.)

Target: p95 under 50 ms per call. `--explain` prints EXPLAIN ANALYZE of each query's SQL to
stderr; `--profile QUERY` profiles 50 list calls of one query with pyinstrument (stderr).

    .venv/bin/python bench/cases_list.py [--cases 100000] [--notes 5] [--requests 200] [--explain]
                                         [--profile my_open|overdue|text_search]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from _common import percentile, throwaway_database

USERS = 25
CUSTOMERS = 400
OPEN_SHARE = 0.08
WARMUP_REQUESTS = 5
NOTES_PER_CASE = 5
SEARCH_TERMS = ["printer", "outlook", "backup", "vpn", "certifikat", "phishing", "windows", "nas svarer",
                "licens", "wi-fi", "firewall", "mødelokale"]


def _fill(n_cases: int, notes_per_case: int = NOTES_PER_CASE, seed: int = 1) -> int:
    """Users, customers, `n_cases` cases and their notes (COPY; the triggers still write history
    and the cases' note search words). Returns "me"."""
    from app.core import auth, database
    from app.modules.sag.cases.demo import case_text

    rng = random.Random(seed)
    password_hash = auth.hash_password("bench-password")
    users = [database.execute_insert(
        "INSERT INTO users (username, email, full_name, password_hash) VALUES (%s, %s, %s, %s)",
        (f"tech{i}", f"tech{i}@bench.test", f"Tekniker {i}", password_hash)) for i in range(USERS)]
    customers = [database.execute_insert("INSERT INTO customers (name) VALUES (%s)", (f"Bench Kunde {i} ApS",))
                 for i in range(CUSTOMERS)]
    now = datetime.now(UTC)
    open_statuses = ["new", "in_progress", "waiting_customer", "on_hold"]
    with database.transaction() as conn, conn.cursor() as cur:
        with cur.copy("COPY sag_sager (title, description, customer_id, status, priority, assigned_to, "
                      "created_by, deadline, created_at) FROM STDIN") as copy:
            for _ in range(n_cases):
                title, description = case_text(rng)
                created = now - timedelta(days=rng.uniform(0, 5 * 365))
                is_open = rng.random() < OPEN_SHARE
                if is_open:
                    status = rng.choice(open_statuses)
                    roll = rng.random()
                    deadline = (now - timedelta(hours=rng.uniform(1, 500)) if roll < 0.3 else
                                now + timedelta(hours=rng.uniform(1, 900)) if roll < 0.8 else None)
                else:
                    status = rng.choice(["resolved", "closed", "closed", "closed"])
                    deadline = created + timedelta(days=rng.uniform(1, 20)) if rng.random() < 0.5 else None
                copy.write_row((title, description, rng.choice(customers),
                                status, rng.choices(["low", "normal", "high", "urgent"], [15, 55, 22, 8])[0],
                                rng.choice(users) if rng.random() > 0.03 else None, rng.choice(users),
                                deadline, created))
    if notes_per_case:
        _fill_notes(notes_per_case, users, rng)
    # What autovacuum does shortly after a bulk load: merge the GIN pending list into the
    # trigram index, set the visibility map and gather statistics (steady state, not load time).
    with database.connect(autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) sag_sager")
        conn.execute("ANALYZE")
    return users[0]


def _fill_notes(per_case: int, users: list[int], rng: random.Random) -> None:
    """`per_case` notes on every case (COPY; the notes' statement trigger indexes their words)."""
    from app.core import database
    from app.modules.sag.conversation.demo import MENTION_NOTES, NOTES

    texts = NOTES + [t.format(mention="@tech1") for t in MENTION_NOTES]
    cases = database.execute_query("SELECT id, created_at FROM sag_sager")
    with database.transaction() as conn, conn.cursor() as cur:
        with cur.copy("COPY sag_notes (sag_id, author_id, body, created_at) FROM STDIN") as copy:
            for case in cases:
                for i in range(per_case):
                    copy.write_row((case["id"], rng.choice(users), rng.choice(texts),
                                    case["created_at"] + timedelta(hours=i + rng.random())))


QUERIES = {
    "my_open": lambda i: {"assignee": "me", "state": "open", "sort": "deadline"},
    "overdue": lambda i: {"overdue": "true", "sort": "deadline"},
    "text_search": lambda i: {"q": SEARCH_TERMS[i % len(SEARCH_TERMS)]},
}


def _explain(me: int) -> None:
    """EXPLAIN ANALYZE the SQL each benchmark query runs (to stderr)."""
    from psycopg import sql

    from app.core import database
    from app.modules.sag.cases import listing as cases_list

    for name, params in QUERIES.items():
        p = params(0)
        f = cases_list.CaseFilter(state=p.get("state", "all"), assignee=p.get("assignee"),
                                  overdue=True if p.get("overdue") else None, q=p.get("q"))
        conds, values = cases_list._where(f, me)
        where = sql.SQL(" AND ".join(conds) or "TRUE")
        order = sql.SQL(cases_list.SORTS[p.get("sort", cases_list.DEFAULT_SORT)])
        for label, text, extra in (
                ("page", cases_list.Q["search_cases"], {"limit": 25, "offset": 0, "due_soon_hours": 24}),
                ("count", cases_list.Q["count_cases"], {"cap": cases_list.COUNT_CAP + 1})):
            query = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) " + text).format(where=where, order=order)
            plan = database.execute_query(query, {**values, **extra})
            print(f"--- {name} ({label})", file=sys.stderr)
            for row in plan:
                print(row["QUERY PLAN"], file=sys.stderr)


def _profile(name: str, me: int) -> None:
    """Profile 50 list calls of one query with pyinstrument (to stderr).

    The calls go straight to the list function in this thread: the TestClient runs the app in
    a worker thread that a sampling profiler of the main thread would not see.
    """
    from pyinstrument import Profiler

    from app.modules.sag.cases import listing as cases_list

    profiler = Profiler()
    with profiler:
        for i in range(50):
            p = QUERIES[name](i)
            f = cases_list.CaseFilter(state=p.get("state", "all"), assignee=p.get("assignee"),
                                      overdue=True if p.get("overdue") else None, q=p.get("q"))
            cases_list.search_cases(f, me, 1, 25, p.get("sort", cases_list.DEFAULT_SORT))
    print(profiler.output_text(unicode=True, color=False), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--notes", type=int, default=NOTES_PER_CASE, help="notes per case")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--profile", choices=list(QUERIES), help="profile this query with pyinstrument")
    args = parser.parse_args()

    with throwaway_database("bmc-bench-cases-"):
        from fastapi.testclient import TestClient

        from app.core import auth, migrations
        from app.main import create_app

        migrations.migrate_core()
        app = create_app()
        me = _fill(args.cases, args.notes)
        token = auth.create_api_token(me, "bench")
        if args.explain:
            _explain(me)
        results: dict[str, dict] = {}
        everything: list[float] = []
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            for name, params in QUERIES.items():
                for i in range(WARMUP_REQUESTS):
                    client.get("/api/v1/sag", params=params(i))
                times: list[float] = []
                matches: list[int] = []
                for i in range(args.requests):
                    start = time.perf_counter()
                    r = client.get("/api/v1/sag", params=params(i))
                    times.append((time.perf_counter() - start) * 1000)
                    if r.status_code != 200:
                        raise SystemExit(f"{name}: HTTP {r.status_code}: {r.text[:300]}")
                    matches.append(r.json()["total"])
                everything += times
                results[name] = {"p50_ms": round(statistics.median(times), 2),
                                 "p95_ms": round(percentile(times, 95), 2),
                                 "matches": round(statistics.mean(matches))}
        if args.profile:
            _profile(args.profile, me)
        print(json.dumps({"cases": args.cases, "notes": args.cases * args.notes, "requests_per_query": args.requests,
                          "p50_ms": round(statistics.median(everything), 2),
                          "p95_ms": round(percentile(everything, 95), 2), "queries": results}))


if __name__ == "__main__":
    main()
