"""Named SQL queries kept in `.sql` files.

A file holds several queries, each under a header line `-- name: <query_name>` followed by
one comment line saying what it does, then the SQL:

    -- name: read_user_by_username
    -- An active user by username, case-insensitive.
    SELECT ... WHERE lower(username) = lower(%(username)s);

`load_queries(path)` reads a file once and returns {name: sql}.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


class Queries(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"no query named {key!r}; known: {', '.join(sorted(self))}")


@cache
def load_queries(path: Path) -> Queries:
    text = path.read_text(encoding="utf-8")
    parts = _HEADER.split(text)
    queries = Queries()
    # parts = [preamble, name1, body1, name2, body2, ...]
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"{path.name}: query {name!r} is defined twice")
        lines = [ln for ln in body.strip().splitlines()]
        sql = "\n".join(ln for ln in lines if not ln.lstrip().startswith("--")).strip()
        queries[name] = sql.rstrip(";")
    return queries
