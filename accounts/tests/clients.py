"""What the account tests do as a client: read a page, and sign requests with HTTP Basic."""

import base64


def basic(username: str, password: str) -> str:
    """An Authorization header for HTTP Basic."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def page_html(client, url: str, *, user=None, title: str | None = None) -> str:
    """The page at `url`, as `user` when one is given: it must answer 200 and, given a `title`,
    carry it in its <title> and its <h1>."""
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    if title is not None:
        assert f"<title>{title} · HRP</title>" in html, f"no <title>{title} · HRP</title>"
        assert f"<h1>{title}</h1>" in html, f"no <h1>{title}</h1>"
    return html
