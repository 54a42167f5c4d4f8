"""Every error is an RFC 9457 problem that names the field and the reason."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_malformed_json_is_a_problem(client: TestClient) -> None:
    response = client.post("/api/v1/orders", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail", "field"} <= body.keys()


def test_nul_characters_are_refused_everywhere(client: TestClient) -> None:
    response = client.post("/api/v1/customers", json={"name": "王\u0000芳", "phone": "13812345678"})
    assert response.status_code == 422 and response.json()["field"] == "name"
    assert client.get("/api/v1/products/AB%00C").status_code == 422
    assert client.get("/api/v1/customers", params={"q": "a\u0000"}).status_code == 422
    assert client.get("/api/v1/customers").json()["items"] == []


def test_unknown_paths_answer_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
