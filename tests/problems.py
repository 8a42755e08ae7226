"""``assert_problem``: a response is the RFC 9457 problem the contract names, as every error is."""


def assert_problem(response, status: int, code: str) -> dict:
    """Assert ``response`` is a problem+json of ``status`` and ``code`` with its members; return its body."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code), body
    assert {"type", "title", "detail"} <= set(body), body
    return body
