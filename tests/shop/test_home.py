"""`/` answers with the links a newcomer is after: HTML for a browser, JSON for an API client."""

import pytest

pytestmark = pytest.mark.django_db

PATHS = {
    "docs": "/api/docs/",
    "schema": "/api/schema/",
    "admin": "/admin/",
    "health": "/healthz",
    "readiness": "/readyz",
    "workers_health": "/healthz/workers",
    "metrics": "/metrics",
}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("accept", ["application/json", "*/*"])
def test_an_api_client_gets_a_json_index_of_absolute_links(client, accept):
    response = client.get("/", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    index = response.json()
    assert index["api_base"] == "http://testserver/api/v1/"
    assert index["products"] == "http://testserver/api/v1/catalog/products/"
    assert {key: index[key] for key in PATHS} == {
        key: f"http://testserver{path}" for key, path in PATHS.items()
    }


def test_a_browser_gets_a_page_linking_docs_schema_admin_health_and_metrics(client):
    response = client.get("/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for path in [*PATHS.values(), "/api/v1/catalog/products/"]:
        assert f'href="{path}"' in page, path


def test_every_link_of_the_index_is_served(client, admin_client):
    for key, path in {**PATHS, "products": "/api/v1/catalog/products/"}.items():
        status = (admin_client if key == "admin" else client).get(path).status_code
        # Not a 404: 503 is the workers' health without workers, 403 the metrics without a token.
        assert status in (200, 403, 503), (path, status)


def test_the_admins_view_site_link_leads_to_the_index(admin_client):
    admin_page = admin_client.get("/admin/").content.decode()

    assert '<a href="/">View site</a>' in admin_page


def test_other_methods_are_405_problem_with_allow(client):
    response = client.post("/")

    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response["Allow"] == "GET, HEAD"
