"""The streaming download: checksum, truncation and network failures leave nothing behind."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from scones.cli import main
from scones.data.download import download
from scones.data.errors import ChecksumMismatchError, DownloadError
from tests.conftest import DEMO_TARBALL

PAYLOAD = DEMO_TARBALL.read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAYLOAD
        self.send_response(200)
        # /truncated announces more bytes than it sends, like a connection dropped mid-body.
        self.send_header("Content-Length", str(len(body) + (1000 if self.path == "/truncated" else 0)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_download_verifies_and_renames(server: str, tmp_path: Path) -> None:
    md5 = hashlib.md5(PAYLOAD, usedforsecurity=False).hexdigest()
    target = download(f"{server}/ok", tmp_path / "a.tar.gz", md5=md5)
    assert target.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz"]


def test_checksum_mismatch_leaves_no_file(server: str, tmp_path: Path) -> None:
    with pytest.raises(ChecksumMismatchError, match="does not match the published"):
        download(f"{server}/ok", tmp_path / "a.tar.gz", md5="0" * 32)
    assert list(tmp_path.iterdir()) == []


def test_truncated_body_leaves_no_file(server: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError):
        download(f"{server}/truncated", tmp_path / "a.tar.gz", md5=None, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_host_is_a_download_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="cannot download"):
        download(f"http://127.0.0.1:{_free_port()}/x", tmp_path / "a.tar.gz", timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_an_archive_that_is_not_the_official_one(server: str, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    result = CliRunner().invoke(
        main,
        ["prepare", "--url", f"{server}/ok", "--download-dir", str(downloads), "--out", str(tmp_path / "out")],
    )
    assert result.exit_code == 1
    assert "MD5" in result.output and "eb9058c3a382ffc7106e4002c42a8d85" in result.output
    assert list(downloads.iterdir()) == []
    assert not (tmp_path / "out").exists()
