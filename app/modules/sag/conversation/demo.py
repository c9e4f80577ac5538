"""Demo notes for `bmc-hub demo`: a few notes on most demo cases, by the demo users, some asking a
colleague with an @mention (as @username or @"Full Name"), some with a link, written between the
case's creation and its last update. Idempotent: nothing is added when demo cases have notes.
backend/demo.py runs it after the demo cases."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from app.core import database
from app.modules.sag.cases import demo as cases_demo

DEMO_SEED = 1707
MAX_NOTES_PER_CASE = 4
# Share of demo notes that mention a colleague.
MENTION_SHARE = 0.35
NOTES = [
    "Har ringet til kunden; de prøver igen i morgen formiddag.",
    "Fjernsupport kørt. Fejlen kunne ikke genskabes, men loggen er gemt.",
    "Genstartet servicen, det ser fint ud nu.\nHolder øje med det resten af ugen.",
    "Bestilt ny toner og en ekstra valse hjem, forventet levering torsdag.",
    "Vejledningen er sendt til kunden: https://support.microsoft.com/da-dk/windows",
    "Kunden bekræfter at det virker igen. Lukker når de har testet i et par dage.",
    "Tjekket firewall-loggen, intet mistænkeligt i tidsrummet.",
    "Adgangskoden er nulstillet og MFA sat op igen sammen med brugeren.",
]
MENTION_NOTES = [
    "{mention} kan du kigge på det her? Du kender opsætningen hos kunden bedst.",
    "{mention} FYI: kunden har bedt om et tilbud på udskiftning.",
    "Har talt med {mention}, som tager den videre i morgen.",
    "{mention} har du adgangskoden til routeren? Den står ikke i dokumentationen.",
]


def _handle(user: dict[str, Any], rng: random.Random) -> str:
    if user["full_name"] and rng.random() < 0.5:
        return f'@"{user["full_name"]}"'
    return f"@{user['username']}"


def demo_notes(seed: int = DEMO_SEED) -> int:
    """Notes on the demo cases (those created by the demo users); returns how many were added."""
    users = database.execute_query(
        "SELECT id, username, full_name FROM users WHERE active AND username = ANY(%s) ORDER BY id",
        (list(cases_demo.DEMO_USERNAMES),))
    if len(users) < 2:
        return 0
    ids = [u["id"] for u in users]
    if database.execute_query("SELECT 1 FROM sag_notes n JOIN sag_sager s ON s.id = n.sag_id "
                              "WHERE s.created_by = ANY(%s) LIMIT 1", (ids,)):
        return 0
    cases = database.execute_query(
        "SELECT id, created_at, updated_at, closed_at FROM sag_sager WHERE created_by = ANY(%s) ORDER BY id", (ids,))
    rng = random.Random(seed)
    rows = []
    for case in cases:
        span = (case["updated_at"] - case["created_at"]).total_seconds()
        for _ in range(rng.randint(0, MAX_NOTES_PER_CASE)):
            author = rng.choice(users)
            if rng.random() < MENTION_SHARE:
                other = rng.choice([u for u in users if u["id"] != author["id"]])
                body = rng.choice(MENTION_NOTES).format(mention=_handle(other, rng))
            else:
                body = rng.choice(NOTES)
            at = case["created_at"] + timedelta(seconds=rng.uniform(0.05, 0.95) * max(span, 60))
            rows.append((case["id"], author["id"], body, at))
    with database.transaction() as conn:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO sag_notes (sag_id, author_id, body, created_at) VALUES (%s, %s, %s, %s)", rows)
        # The notes bumped updated_at to now; give the cases back the times of their story.
        cases_demo._backdate([{"id": c["id"], "updated_at": c["updated_at"], "closed_at": None} for c in cases])
        # A back-dated note may be the first response, earlier than the one the clock holds (the
        # notes' trigger only looks at clocks without one): the clocks of these cases again.
        database.execute_query("SELECT sag_sla_refresh_cases(%s)", ([c["id"] for c in cases],))
    return len(rows)
