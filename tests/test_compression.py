"""Responses are compressed when the client asks (brotli, else gzip), and static files carry
their content version in the URL and are cached for a long time."""

import gzip
import re

import brotli
import pytest


@pytest.fixture
def logged_in(client, auth):
    auth.login("manager")
    return client


def overview_url(demo):
    return f"/projects/{demo}"


def test_gzip_when_the_client_asks_for_it(logged_in, demo):
    response = logged_in.get(overview_url(demo), headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    page = gzip.decompress(response.data).decode("utf-8")
    assert "</html>" in page
    assert int(response.headers["Content-Length"]) == len(response.data) < len(page.encode())


def test_brotli_when_the_client_asks_for_it(logged_in, demo):
    response = logged_in.get(overview_url(demo), headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert "</html>" in brotli.decompress(response.data).decode("utf-8")


def test_no_compression_when_not_asked(logged_in, demo):
    response = logged_in.get(overview_url(demo))
    assert "Content-Encoding" not in response.headers
    assert "</html>" in response.get_data(as_text=True)
    response = logged_in.get(overview_url(demo), headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers


def test_htmx_fragments_and_static_files_are_compressed_too(client):
    response = client.get("/static/js/vendor/htmx-2.0.11.min.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"htmx" in gzip.decompress(response.data)


def test_workbooks_are_not_compressed_again(logged_in, demo):
    response = logged_in.get(f"/projects/{demo}/export.xlsx", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.data[:2] == b"PK"


def static_links(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_static_urls_carry_their_content_version(logged_in, demo):
    page = logged_in.get(overview_url(demo)).get_data(as_text=True)
    links = static_links(page)
    assert any("css/app.css?v=" in link for link in links)
    assert any("js/app.js?v=" in link for link in links)
    assert any(link.endswith("htmx-2.0.11.min.js") for link in links)  # its name carries the version
    for link in links:
        assert "?v=" in link or re.search(r"-\d+\.\d+\.\d+", link), link


def test_versioned_static_files_are_cached_for_a_year(logged_in, demo):
    page = logged_in.get(overview_url(demo)).get_data(as_text=True)
    for link in static_links(page):
        response = logged_in.get(link.replace("&amp;", "&"))
        assert response.status_code == 200
        cache = response.cache_control
        assert cache.max_age >= 365 * 24 * 3600, link
        assert cache.immutable and cache.public, link


def test_a_static_url_without_its_current_version_is_revalidated(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=0000000000ff"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.cache_control.no_cache
        assert not response.cache_control.max_age
        assert response.headers.get("ETag")
