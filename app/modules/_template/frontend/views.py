"""The __MODULE_NAME__ module's pages, mounted under /__MODULE_NAME__."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request

from app.core.database import execute_query
from app.core.deps import CurrentUser
from app.core.queries import load_queries
from app.core.templating import render

router = APIRouter()
Q = load_queries(Path(__file__).parents[1] / "backend" / "queries.sql")
PAGE_ROWS = 100


@router.get("")
def read_index(request: Request, user: CurrentUser):
    return render(request, "__MODULE_NAME__/index.html", {
        "items": execute_query(Q["read_items"], {"limit": PAGE_ROWS}),
        "customers": execute_query(Q["read_customers"], {"limit": PAGE_ROWS}),
    })
