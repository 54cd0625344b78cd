"""Getting the corpus under DVC, as a user with network would: `data.raw` set to a URL (here a server on
127.0.0.1 that serves made-up tweets) makes the URL the prepare stage's dependency; DVC checks it before
running and prepare downloads it, inside the repository and only while it runs."""
from __future__ import annotations

import hashlib
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from conftest import copy_repository, sh, write_params
from synthetic_tweets import synthetic_tweets


@pytest.fixture
def served(tmp_path):
    """(url of tweets.txt on a loopback server, the downloads it served, the file); stopped after the test."""
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "tweets.txt").write_text("\n".join(synthetic_tweets(600, seed=2)) + "\n")
    downloads: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        """Static files with an ETag, as the course's S3 bucket sends: DVC checks a URL by its headers."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def end_headers(self):
            self.send_header("ETag", f'"{hashlib.md5((folder / "tweets.txt").read_bytes()).hexdigest()}"')
            super().end_headers()

        def do_GET(self):
            # prepare downloads with urllib; DVC's own GETs (aiohttp) only test that the URL exists and
            # read the headers, as its HEADs do, to compare the ETag with dvc.lock.
            if self.headers.get("User-Agent", "").startswith("Python-urllib"):
                downloads.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tweets.txt", downloads, folder / "tweets.txt"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on: a port bound and released again."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/tweets.txt"


def test_a_fresh_clone_downloads_once_and_names_an_unreachable_url(tmp_path, served):
    url, downloads, source = served
    repo = copy_repository(tmp_path / "repo")
    write_params(repo, data={"raw": url})

    first = sh(["dvc", "repro", "split"], repo)
    assert "Running stage 'prepare'" in first and downloads == ["/tweets.txt"]
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert [d["path"] for d in lock["stages"]["prepare"]["deps"] if d["path"].startswith("http")] == [url]
    assert sorted(p.name for p in (repo / "data").iterdir()) == [
        ".gitignore", "dataset_processed.csv", "test.csv", "train.csv", "val.csv"]  # no download left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "served"]  # nothing written outside

    second = sh(["dvc", "repro", "split"], repo)
    assert "Running stage" not in second and downloads == ["/tweets.txt"]  # unchanged ETag: nothing to fetch

    with source.open("a") as f:
        f.write("a brand new tweet about the beach today\n")
    third = sh(["dvc", "repro", "split"], repo)  # the file changed on the server: its ETag with it
    assert "Running stage 'prepare'" in third and len(downloads) == 2

    unreachable = closed_port_url()
    write_params(repo, data={"raw": unreachable})
    failed = sh(["dvc", "repro", "split"], repo, check=False)
    assert "ERROR" in failed and unreachable in failed


def test_a_bare_clone_without_the_sample_names_the_missing_file(tmp_path):
    """The committed params read ../shared/data/tweets.txt; a clone without it is told which file is missing."""
    repo = copy_repository(tmp_path / "repo")
    raw = yaml.safe_load((repo / "params.yaml").read_text())["data"]["raw"]
    assert not (repo / raw).exists()
    failed = sh(["dvc", "repro"], repo, check=False)
    assert "ERROR" in failed and str(Path(raw).name) in failed and str((repo / raw).resolve()) in failed
