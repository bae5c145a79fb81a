"""Assertions shared by the API tests of every app."""


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is the API's one JSON error shape with this status (and code)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status
    assert error["message"]
    if code:
        assert error["code"] == code
    return error
