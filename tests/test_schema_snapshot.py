"""The committed schema snapshot (tests/schema.sql) is what the migrations and function files make.

A change to the schema shows up here as a diff to review and commit with it: `make schema`
rewrites the snapshot.
"""

from __future__ import annotations

import difflib

import pytest

from tests import schema_snapshot


def test_the_migrations_and_function_files_make_the_committed_schema(pg_server):
    committed = schema_snapshot.SNAPSHOT.read_text()
    major = schema_snapshot.server_major(pg_server)
    if schema_snapshot.snapshot_major(committed) != major:
        pytest.skip(f"tests/schema.sql was made with another PostgreSQL major version than this server's ({major}); "
                    "the server's own rendering of definitions differs between versions")
    built = schema_snapshot.build(pg_server)
    if built != committed:
        diff = "".join(difflib.unified_diff(committed.splitlines(keepends=True), built.splitlines(keepends=True),
                                            "tests/schema.sql (committed)", "built from the migrations", n=8))
        pytest.fail("the schema differs from tests/schema.sql; review the diff and run `make schema` to accept it:\n"
                    + diff, pytrace=False)

