from tests.fixtures import login, make_user


def test_health_reports_database(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_login_and_dashboard(client):
    user = make_user()
    login(client, user)
    r = client.get("/")
    assert r.status_code == 200
    assert "Customers" in r.text


def test_customer_api_roundtrip(user_api):
    r = user_api.post("/api/v1/customers", json={"name": "Nordlys ApS", "cvr_number": "12345678"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = user_api.get("/api/v1/customers", params={"q": "nordlys"})
    assert r.json()["total"] == 1
    r = user_api.patch(f"/api/v1/customers/{cid}", json={"city": "Aarhus"})
    assert r.json()["city"] == "Aarhus"
