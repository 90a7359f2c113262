"""`/media/`: the media root served by the real app under uvicorn, asked over a raw socket
so that request targets reach the server exactly as written (an HTTP client library
would resolve `..` before sending)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from gallery_gql.app import create_app
from gallery_gql.settings import Settings
from gallery_gql.web.media import MediaRootError
from tests.web.support import serve_in_thread

PNG = b"\x89PNG\r\n\x1a\n" + b"media-bytes" * 10
SECRET = b"secret-outside-the-media-root"
YEAR = 365 * 24 * 3600


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class MediaServer:
    url: str
    root: Path
    outside: Path

    def ask(self, target: str, method: str = "GET", extra: str = "") -> Answer:
        """One request with `target` sent byte for byte; the parsed answer."""
        host, port = self.url.removeprefix("http://").split(":")
        request = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n"
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(request.encode("latin-1"))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return Answer(int(status_line.split()[1]), headers, body)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    base = tmp_path_factory.mktemp("media-base")
    root = base / "media"
    (root / "data" / "thumbs").mkdir(parents=True)
    (root / "data" / "thumbs" / "1.png").write_bytes(PNG)
    (root / "data" / "thumbs" / "notes.txt").write_text("plain text")
    (root / ".store").mkdir()
    (root / ".store" / "p1.png").write_bytes(PNG)
    (root / "page.html").write_text("<script>alert(1)</script>")
    (root / "image.svg").write_text("<svg onload='alert(1)'/>")
    outside = base / "secret.png"
    outside.write_bytes(SECRET)
    (root / "escape.png").symlink_to(outside)
    (root / "outside").symlink_to(base, target_is_directory=True)
    (root / "inside.png").symlink_to(root / "data" / "thumbs" / "1.png")
    settings = Settings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",  # never connected
        secret="test-secret-" + "x" * 32,
        home=base,
        rate_limit="",
        media_root=root,
    )
    with serve_in_thread(create_app(settings)) as url:
        yield MediaServer(url, root, outside)


def test_a_file_is_served_with_long_lived_cache_headers(media: MediaServer) -> None:
    answer = media.ask("/media/data/thumbs/1.png")
    assert answer.status == 200
    assert answer.body == PNG
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["cache-control"] == f"public, max-age={YEAR}, immutable"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["etag"]
    again = media.ask(
        "/media/data/thumbs/1.png", extra=f"If-None-Match: {answer.headers['etag']}\r\n"
    )
    assert again.status == 304
    assert again.body == b""
    assert again.headers["cache-control"] == answer.headers["cache-control"]
    head = media.ask("/media/data/thumbs/1.png", method="HEAD")
    assert (head.status, head.body) == (200, b"")
    text = media.ask("/media/data/thumbs/notes.txt")
    assert (text.status, text.headers["content-type"]) == (200, "text/plain; charset=utf-8")


def test_a_symlink_inside_the_root_is_served(media: MediaServer) -> None:
    answer = media.ask("/media/inside.png")
    assert (answer.status, answer.body) == (200, PNG)


@pytest.mark.parametrize("target", ["/media/", "/media/data/", "/media/data/thumbs", "/media"])
def test_no_directory_listing(media: MediaServer, target: str) -> None:
    answer = media.ask(target)
    assert answer.status in (404, 307)  # `/media` redirects to `/media/`, itself a 404
    assert b"1.png" not in answer.body
    assert "cache-control" not in answer.headers


@pytest.mark.parametrize(
    "target",
    [
        "/media/../secret.png",
        "/media/data/../../secret.png",
        "/media/data/thumbs/../../../secret.png",
        "/media/%2e%2e/secret.png",
        "/media/%2E%2E/secret.png",
        "/media/data/%2e%2e/%2e%2e/secret.png",
        "/media/%2e%2e%2fsecret.png",
        "/media/..%2fsecret.png",
        "/media/..%5csecret.png",
        "/media/.%2e/secret.png",
        "/media/escape.png",
        "/media/outside/secret.png",
        "/media/%00.png",
        "/media/data/thumbs/1.png%00.html",
    ],
)
def test_nothing_outside_the_root_is_reachable(media: MediaServer, target: str) -> None:
    answer = media.ask(target)
    assert answer.status in (400, 404), (target, answer.status)
    assert SECRET not in answer.body


def test_absolute_paths_stay_inside_the_root(media: MediaServer) -> None:
    absolute = str(media.outside)
    for target in (f"/media/{absolute}", f"/media/{absolute.replace('/', '%2F')}"):
        answer = media.ask(target)
        assert answer.status == 404, target
        assert SECRET not in answer.body


@pytest.mark.parametrize(
    "target", ["/media/.store/p1.png", "/media/page.html", "/media/image.svg", "/media/data"]
)
def test_hidden_names_and_non_media_types_are_not_served(media: MediaServer, target: str) -> None:
    assert media.ask(target).status == 404


def test_only_get_and_head(media: MediaServer) -> None:
    answer = media.ask("/media/data/thumbs/1.png", method="POST", extra="Content-Length: 0\r\n")
    assert answer.status == 405


async def test_a_max_age_of_zero_asks_to_revalidate(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(PNG)
    settings = Settings(home=tmp_path, secret="s" * 40, media_root=tmp_path, rate_limit="")
    settings = Settings.model_validate({**settings.model_dump(), "media_max_age_seconds": 0})
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/media/a.png")
    assert (answer.status_code, answer.headers["cache-control"]) == (200, "no-cache")


def test_a_media_root_that_is_not_a_directory_stops_the_app(tmp_path: Path) -> None:
    with pytest.raises(MediaRootError, match="not a directory"):
        create_app(Settings(home=tmp_path, secret="s" * 40, media_root=tmp_path / "missing"))


@pytest.mark.parametrize(
    "value", ["cdn.example.com", "ftp://cdn.example.com", "https://", "https://c.example/?a=1"]
)
def test_a_media_base_url_must_be_an_absolute_http_url(value: str) -> None:
    with pytest.raises(ValidationError, match="media_base_url"):
        Settings(media_base_url=value)


def test_the_media_url_prefix(tmp_path: Path) -> None:
    assert Settings().media_url_prefix is None
    assert Settings(media_root=tmp_path).media_url_prefix == "/media/"
    cdn = Settings(media_root=tmp_path, media_base_url="https://cdn.example.com/g/")
    assert cdn.media_url_prefix == "https://cdn.example.com/g/"
    assert os.fspath(cdn.media_root or "") == os.fspath(tmp_path)
