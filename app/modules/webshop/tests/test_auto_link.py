"""webshop_customers are linked to the hub's customers by name (case-insensitive, trimmed).

insert: linked at once when exactly one hub customer has the name; rename: linked to the
hub customer matching the new name (with no match the link stays); no match: NULL;
later match: a hub customer created (or renamed) later links the still-unlinked rows.
"""

import uuid

from app.core.database import execute_query


def _name(base: str) -> str:
    return f"{base} {uuid.uuid4().hex[:6]}"


def _hub(name: str) -> int:
    return execute_query("INSERT INTO customers (name) VALUES (%s) RETURNING id", (name,))[0]["id"]


def _shop(name: str, hub_customer_id=None) -> dict:
    return execute_query("INSERT INTO webshop_customers (name, hub_customer_id) VALUES (%s, %s) "
                         "RETURNING id, hub_customer_id", (name, hub_customer_id))[0]


def _link(shop_id: int):
    rows = execute_query("SELECT hub_customer_id FROM webshop_customers WHERE id = %s", (shop_id,))
    return rows[0]["hub_customer_id"]


def test_insert_links_to_the_hub_customer_with_the_same_name():
    name = _name("Nordlys ApS")
    hub_id = _hub(name)
    assert _shop(name)["hub_customer_id"] == hub_id


def test_match_ignores_case_and_surrounding_spaces():
    name = _name("Fjord Consult")
    hub_id = _hub(name)
    assert _shop(f"   {name.upper()}  ")["hub_customer_id"] == hub_id


def test_no_match_leaves_the_row_unlinked():
    assert _shop(_name("Nobody Known"))["hub_customer_id"] is None


def test_rename_links_to_the_customer_matching_the_new_name():
    old, new = _name("Old Name"), _name("New Name")
    old_id, new_id = _hub(old), _hub(new)
    row = _shop(old)
    assert row["hub_customer_id"] == old_id
    execute_query("UPDATE webshop_customers SET name = %s WHERE id = %s", (new.lower(), row["id"]))
    assert _link(row["id"]) == new_id


def test_rename_without_a_match_keeps_the_existing_link():
    name = _name("Kept Link")
    hub_id = _hub(name)
    row = _shop(name)
    execute_query("UPDATE webshop_customers SET name = %s WHERE id = %s", (_name("Unknown"), row["id"]))
    assert _link(row["id"]) == hub_id


def test_later_match_when_the_hub_customer_is_created_afterwards():
    name = _name("Late Comer")
    row = _shop(name)
    assert row["hub_customer_id"] is None
    hub_id = _hub(f" {name.lower()} ")
    assert _link(row["id"]) == hub_id


def test_later_match_when_a_hub_customer_is_renamed_to_the_name():
    name = _name("Renamed Later")
    row = _shop(name)
    hub_id = _hub(_name("Something Else"))
    execute_query("UPDATE customers SET name = %s WHERE id = %s", (name, hub_id))
    assert _link(row["id"]) == hub_id


def test_later_match_does_not_steal_existing_links():
    name = _name("Linked Already")
    first = _hub(_name("First"))
    row = _shop(name, hub_customer_id=first)
    assert row["hub_customer_id"] == first  # an explicit link is kept on insert
    _hub(name)
    assert _link(row["id"]) == first


def test_ambiguous_names_are_not_guessed():
    name = _name("Twin Name")
    _hub(name)
    _hub(name.upper())
    assert _shop(name)["hub_customer_id"] is None


def test_deleting_the_hub_customer_unlinks_instead_of_blocking():
    name = _name("Going Away")
    hub_id = _hub(name)
    row = _shop(name)
    execute_query("DELETE FROM customers WHERE id = %s", (hub_id,))
    assert _link(row["id"]) is None


def test_api_creates_linked_customers(admin_api):
    name = _name("Via API")
    hub = admin_api.post("/api/v1/customers", json={"name": name}).json()
    r = admin_api.post("/api/v1/webshop/customers", json={"name": name, "external_id": "EXT-1"})
    assert r.status_code == 201, r.text
    assert r.json()["hub_customer_id"] == hub["id"]
    assert r.json()["hub_customer_name"] == name
    listed = admin_api.get("/api/v1/webshop/customers", params={"limit": 500}).json()
    assert any(c["id"] == r.json()["id"] for c in listed)
