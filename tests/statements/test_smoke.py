"""The app starts and serves its home page and its page on taking part."""

from flask.testing import FlaskClient


def test_home_page_is_served(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "<h1>Joint statements</h1>" in response.get_data(as_text=True)
    taking_part = client.get("/take-part")
    assert taking_part.status_code == 200
    assert "Draft joint statements together" in taking_part.get_data(as_text=True)
