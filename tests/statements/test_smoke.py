"""The app starts and serves its home page."""

from flask.testing import FlaskClient


def test_home_page_is_served(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Draft joint statements together" in response.get_data(as_text=True)
