"""Benchmark: the case list API at 100,000 cases (or a million: `--cases 1000000`).

Starts a throwaway embedded PostgreSQL in a temporary directory (never ./var), applies the
migrations, fills CASES cases with the bulk generator (app/modules/sag/cases/bulk.py: five
years of cases with history and notes, ~3 % open, 25 technicians, 400 customers), then calls
GET /api/v1/sag in-process REQUESTS times for each of the list's saved views -- my open
cases, overdue, due soon, text search, a customer's cases -- and times a random case's page
(`case_page`) and the dashboard with its case counts (`dashboard`). Prints one JSON line:

    {"cases": 100000, "requests_per_query": 200, "p50_ms": ..., "p95_ms": ...,
     "queries": {"my_open": {"p50_ms": ..., "p95_ms": ..., "matches": ...}, ...},
     "case_page": {"p50_ms": ..., "p95_ms": ...}, "dashboard": {"p50_ms": ..., "p95_ms": ...}}

(the top-level p50/p95 are over the list queries; "matches" is the list's `total`, which
counts exactly up to 1000, see cases_list.COUNT_CAP.)

Target: p95 under 50 ms per call. `--explain` prints EXPLAIN ANALYZE of each query's SQL to
stderr; `--profile QUERY` profiles 50 list calls of one query with pyinstrument (stderr).

    .venv/bin/python bench/cases_list.py [--cases 100000] [--notes 500000] [--requests 200] [--explain]
                                         [--profile my_open|overdue|due_soon|text_search|by_customer]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time

from _common import percentile, throwaway_database

USERS = 25
CUSTOMERS = 400
OPEN_SHARE = 0.08
WARMUP_REQUESTS = 5
SEARCH_TERMS = ["printer", "outlook", "backup", "vpn", "certifikat", "phishing", "windows", "nas svarer",
                "licens", "wi-fi", "firewall", "mødelokale"]


def _more_notes(total: int, n_cases: int, users: list[int], seed: int) -> int:
    """Notes on random cases until the hub holds `total` (COPY through the sag_notes statement
    triggers, which index the words of each touched case once). Returns how many were added."""
    from datetime import UTC, datetime, timedelta

    from app.core import database
    from app.modules.sag.cases.bulk_plan import note_pool

    have = database.execute_query("SELECT count(*) AS n FROM sag_notes")[0]["n"]
    rng = random.Random(seed)
    texts, now = note_pool(rng), datetime.now(UTC)
    with database.transaction() as conn, conn.cursor() as cur:
        with cur.copy("COPY sag_notes (sag_id, author_id, body, created_at) FROM STDIN") as copy:
            for _ in range(max(0, total - have)):
                copy.write_row((rng.randint(1, n_cases), rng.choice(users), rng.choice(texts),
                                now - timedelta(days=rng.uniform(0, 5 * 365))))
    # The load rewrote every case once (its note words): compact the table as one whose notes came
    # one by one would be, before measuring.
    with database.connect(autocommit=True) as conn:
        conn.execute("VACUUM FULL sag_sager")
        conn.execute("ANALYZE sag_sager")
        conn.execute("ANALYZE sag_notes")
    return max(0, total - have)


def _fill(n_cases: int, seed: int = 1, notes: int | None = None) -> int:
    """Users, customers and `n_cases` cases with history and notes (the bulk generator,
    app/modules/sag/cases/bulk.py, which ANALYZEs), then more notes up to `notes` in all when
    asked. Returns "me"."""
    from app.core import auth, database
    from app.modules.sag.cases import bulk

    password_hash = auth.hash_password("bench-password")
    users = [database.execute_insert(
        "INSERT INTO users (username, email, full_name, password_hash) VALUES (%s, %s, %s, %s)",
        (f"tech{i}", f"tech{i}@bench.test", f"Tekniker {i}", password_hash)) for i in range(USERS)]
    CUSTOMER_IDS[:] = [database.execute_insert("INSERT INTO customers (name) VALUES (%s)", (f"Bench Kunde {i} ApS",))
                       for i in range(CUSTOMERS)]
    result = bulk.bulk_cases(n_cases, seed=seed)
    print(f"set-up: {result.cases} cases, {result.history} history rows, {result.notes} notes "
          f"in {result.seconds} s", file=sys.stderr)
    print(f"set-up steps (s): {json.dumps(result.steps)}", file=sys.stderr)
    if notes is not None:
        started = time.perf_counter()
        added = _more_notes(notes, n_cases, users, seed)
        print(f"set-up: {added} more notes in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    # What autovacuum does shortly after a bulk load: set the visibility map (index-only scans
    # for the counts) -- steady state, not load time.
    with database.connect(autocommit=True) as conn:
        conn.execute("VACUUM sag_sager")
    return users[0]


CUSTOMER_IDS: list[int] = []
QUERIES = {
    "my_open": lambda i: {"assignee": "me", "state": "open", "sort": "deadline"},
    "overdue": lambda i: {"overdue": "true", "sort": "deadline"},
    "text_search": lambda i: {"q": SEARCH_TERMS[i % len(SEARCH_TERMS)]},
    "due_soon": lambda i: {"due_within_hours": 24, "sort": "deadline"},
    # The customer page's "all cases" link.
    "by_customer": lambda i: {"customer_id": CUSTOMER_IDS[i % len(CUSTOMER_IDS)], "state": "all", "assignee": "any",
                              "sort": "-updated"},
}
# Pages timed besides the list: a random case's page, and the dashboard with its case counts.
PAGES = {
    "case_page": lambda i, n: f"/sag/{random.Random(i).randint(1, n)}",
    "dashboard": lambda i, n: "/",
}


def _filter(p: dict):
    from app.modules.sag.cases import listing as cases_list

    return cases_list.CaseFilter(state=p.get("state", "all"), assignee=p.get("assignee"),
                                 overdue=True if p.get("overdue") else None, q=p.get("q"),
                                 due_within_hours=p.get("due_within_hours"), customer_id=p.get("customer_id"))


def _explain(me: int) -> None:
    """EXPLAIN ANALYZE the SQL each benchmark query runs (to stderr)."""
    from psycopg import sql

    from app.core import database
    from app.modules.sag.cases import listing as cases_list

    for name, params in QUERIES.items():
        p = params(0)
        f = _filter(p)
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
            cases_list.search_cases(_filter(p), me, 1, 25, p.get("sort", cases_list.DEFAULT_SORT))
    print(profiler.output_text(unicode=True, color=False), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--notes", type=int, default=None,
                        help="notes in all (more are added to the generator's ~1.6 per case), e.g. 500000")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--profile", choices=list(QUERIES), help="profile this query with pyinstrument")
    args = parser.parse_args()

    with throwaway_database("bmc-bench-cases-"):
        from fastapi.testclient import TestClient

        from app.core import auth, migrations
        from app.main import create_app

        migrations.migrate_core()
        app = create_app()
        me = _fill(args.cases, notes=args.notes)
        token = auth.create_api_token(me, "bench")
        if args.explain:
            _explain(me)
        results: dict[str, dict] = {}
        pages: dict[str, dict] = {}
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
            for name, path in PAGES.items():
                for i in range(WARMUP_REQUESTS):
                    client.get(path(i, args.cases))
                times = []
                for i in range(args.requests):
                    start = time.perf_counter()
                    r = client.get(path(i, args.cases))
                    times.append((time.perf_counter() - start) * 1000)
                    if r.status_code != 200:
                        raise SystemExit(f"{name}: HTTP {r.status_code}: {r.text[:300]}")
                pages[name] = {"p50_ms": round(statistics.median(times), 2),
                               "p95_ms": round(percentile(times, 95), 2)}
        if args.profile:
            _profile(args.profile, me)
        from app.core import database

        notes = database.execute_query("SELECT count(*) AS n FROM sag_notes")[0]["n"]
        print(json.dumps({"cases": args.cases, "notes": notes, "requests_per_query": args.requests,
                          "p50_ms": round(statistics.median(everything), 2),
                          "p95_ms": round(percentile(everything, 95), 2), "queries": results, **pages}))


if __name__ == "__main__":
    main()
