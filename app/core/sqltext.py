"""Reading SQL text without running it: comments and literals blanked, statements split.

The migration checks read a module's SQL for the names it creates, and the function-file
runner reads a function file for what it holds; both must not be fooled by a name inside
a comment, a string or a function body.
"""

from __future__ import annotations

import re


def blank_literals(sql: str) -> str:
    """`sql` with comments, string literals and dollar-quoted bodies replaced by spaces."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
        elif sql.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
        elif ch == "'":
            j = i + 1
            while j < n:
                if sql[j] == "'" and sql.startswith("''", j):
                    j += 2
                elif sql[j] == "'":
                    j += 1
                    break
                else:
                    j += 1
        elif ch == "$" and (m := re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])):
            tag = m.group(0)
            end = sql.find(tag, i + len(tag))
            j = n if end < 0 else end + len(tag)
        else:
            out.append(ch)
            i += 1
            continue
        out.append(" " * (j - i))
        i = j
    return "".join(out)


def statements(sql: str) -> list[str]:
    """The statements of `sql` with comments and literals blanked (so `;` in a body does not split)."""
    return [s.strip() for s in blank_literals(sql).split(";") if s.strip()]
