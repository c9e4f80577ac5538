"""webshop in Danish: its page and form messages come from the module's own catalog."""

from tests.fixtures import login, make_user


def _danish_browser(client) -> str:
    user = make_user(language="da")
    return login(client, user)


def test_the_page_is_in_danish(client):
    _danish_browser(client)
    page = client.get("/webshop").text
    for text in ("<title>Webshop · BMC Hub</title>", "Et eksempelmodul: kunderne fra en webshop",
                 "<code>webshop_customers</code>", ">Eksternt id</th>", ">Hubkunde</th>", "Tilføj en kunde",
                 "koblet til en hubkunde", ">Tilføj</button>"):
        assert text in page, text


def test_a_blank_name_is_refused_in_danish(client):
    csrf = _danish_browser(client)
    r = client.post("/webshop/customers", data={"csrf_token": csrf, "name": "   "})
    assert r.status_code == 422 and "må ikke være tom" in r.text
