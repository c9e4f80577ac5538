"""Helpers shared by the conversation tests: a case to talk about."""

import uuid

import pytest


def new_case(api, **fields) -> dict:
    r = api.post("/api/v1/sag", json={"title": f"Printer på 2. sal {uuid.uuid4().hex[:4]}", **fields})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def case(user_api) -> dict:
    return new_case(user_api)
