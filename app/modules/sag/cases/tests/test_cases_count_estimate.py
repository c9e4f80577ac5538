"""The list skips its capped count when the planner expects far more matches than the cap
(listing.COUNT_SKIP_ESTIMATE): the answer is the capped one, "1000+", without reading them."""

from app.core import database
from app.modules.sag.cases import listing as cases_list


def _cases(n: int) -> None:
    for i in range(n):
        database.execute_insert("INSERT INTO sag_sager (title) VALUES (%s) RETURNING id", (f"Printer {i} offline",))


def test_an_expected_large_result_is_reported_capped_without_counting(user_api, monkeypatch):
    _cases(6)
    monkeypatch.setattr(cases_list, "COUNT_CAP", 3)
    # Whatever the planner expects for these few rows is at least one.
    monkeypatch.setattr(cases_list, "COUNT_SKIP_ESTIMATE", 1)
    r = user_api.get("/api/v1/sag", params={"q": "printer", "page_size": 2}).json()
    assert (r["total"], r["total_exact"], r["has_next"]) == (3, False, True)


def test_a_result_expected_below_the_threshold_is_counted_exactly(user_api, monkeypatch):
    _cases(2)
    monkeypatch.setattr(cases_list, "COUNT_SKIP_ESTIMATE", 10**9)
    matching = database.execute_query("SELECT count(*) AS n FROM sag_sager WHERE title ILIKE '%offline%'")[0]["n"]
    r = user_api.get("/api/v1/sag", params={"q": "offline"}).json()
    assert (r["total"], r["total_exact"]) == (matching, True) and matching >= 2
