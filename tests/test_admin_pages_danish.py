"""The modules and backups admin pages in Danish."""

from __future__ import annotations

from app.core import database
from tests.fixtures import login, make_user


def _danish_admin(client):
    admin = make_user("admin", language="da")
    login(client, admin)
    return client


def test_the_modules_page_is_in_danish(client):
    page = _danish_admin(client).get("/admin/modules").text
    for text in ("<h1 class=\"h3 mb-0\">Moduler</h1>", "<th>Afhænger af</th>", "<th>Indstillinger</th>",
                 "Ændringer gælder med det samme i alle kørende processer.", ">aktiv</span>", ">Deaktivér</button>"):
        assert text in page, text


def test_the_backups_page_is_in_danish(client):
    database.execute_update(
        "INSERT INTO backup_runs (started_at, finished_at, status, error, process) "
        "VALUES ('2026-12-01 13:05+00', '2026-12-01 13:06+00', 'failed', 'disk full', 'test')")
    page = _danish_admin(client).get("/admin/backups").text
    for text in ("<h1 class=\"h3 mb-3\">Backup</h1>", "1 backup er fejlet siden den sidste gode.",
                 "Sidste gode backup", "1. dec. 2026 14.05", ">fejlet</span>", "manuel"):
        assert text in page, text
