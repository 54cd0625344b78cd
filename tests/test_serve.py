"""`autocomplete serve`: the API's answers against the Autocompleter they come from, every bad input answered
with its status and a message naming the problem (and the next request still served), and the command."""
from __future__ import annotations

import json
import socket
import urllib.request

import pytest
from fastapi.testclient import TestClient

from text_autocomplete import serve
from text_autocomplete.autocomplete import AutocompleteConfig
from text_autocomplete.serve import ServeConfig, create_app, keyboard_suggestions, listening_socket, served

from conftest import project_config, run_command
from tiny_light_model import save_test_model, tiny_autocompleter

CONFIG = project_config(ServeConfig, "serve")
CONTEXT_WORDS = project_config(AutocompleteConfig, "autocomplete").context_words
NORMAL = {"text": "going to the bea", "k": 2}


@pytest.fixture(scope="module")
def completer():
    return tiny_autocompleter()


@pytest.fixture
def client(completer, monkeypatch):
    """The app on the tiny model; `client.model_calls` counts the requests that reached the model."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[1])
        return keyboard_suggestions(*args, **kwargs)

    app = create_app(completer, "tiny", CONFIG, CONTEXT_WORDS)
    monkeypatch.setattr(serve, "keyboard_suggestions", counted)
    with TestClient(app) as test_client:
        test_client.model_calls = calls
        yield test_client


@pytest.mark.parametrize("text", ["going to the bea", "i love the ", "see you at", ""])
def test_suggestions_agree_with_the_autocompleter(completer, text):
    """Completions, next words and phrase against the Autocompleter's own calls and its phrase suggestion
    (the `autocomplete` command's), made independently."""
    answer = keyboard_suggestions(completer, text, 2, 3)
    typed, _, partial = text.rpartition(" ") if not text.endswith(" ") else (text, "", "")
    completer.reset()
    completer.feed(typed)
    assert answer["completions"] == (completer.next_words(2, partial) if partial else [])
    completer.feed(partial and answer["completions"][0])
    assert answer["next_words"] == completer.next_words(2)
    assert answer["phrase"] == completer.suggest(text, 1, 3)[0]
    assert len(answer["phrase"].split()) == 3


def test_suggest_answers_with_the_model_name_and_time(client, completer):
    response = client.post("/api/suggest", json=NORMAL)
    assert response.status_code == 200
    answer = response.json()
    assert answer["model"] == "tiny" and answer["server_ms"] >= 0
    assert {k: answer[k] for k in ("completions", "next_words", "phrase")} == keyboard_suggestions(
        completer, NORMAL["text"], 2, CONFIG.phrase_words)
    assert all(w.startswith("bea") for w in answer["completions"]) and len(answer["completions"]) == 2
    assert client.get("/api/health").json() == {"model": "tiny", "vocab_size": completer.tokenizer.get_vocab_size(),
                                                "ready": True}


def test_input_is_cleaned_and_cut_like_the_command(client):
    """The corpus' cleaning (case, mentions, spacing) and the command's last-words cut apply."""
    plain = client.post("/api/suggest", json=NORMAL).json()
    for variant in ("@someone Going to THE Bea", "going  to\tthe bea", "GOING to the bea"):
        assert client.post("/api/suggest", json={**NORMAL, "text": variant}).json()["completions"] == \
            plain["completions"], variant
    long_text = " ".join(["word"] * (CONTEXT_WORDS + 50)) + " going to the bea"
    assert len(long_text) <= CONFIG.max_text_chars
    client.post("/api/suggest", json={**NORMAL, "text": long_text})
    assert client.model_calls[-1].split() == long_text.split()[-CONTEXT_WORDS:]


def test_empty_text_suggests_first_words(client, completer):
    response = client.post("/api/suggest", json={"text": "", "k": 3})
    assert response.status_code == 200
    completer.reset()
    assert response.json()["next_words"] == completer.next_words(3) and response.json()["completions"] == []


BAD_INPUTS = [  # (what, method, path, body bytes, content type, status, words the message must hold)
    ("text over the limit", "POST", "/api/suggest", json.dumps({"text": "a" * (CONFIG.max_text_chars + 1)}),
     "application/json", 422, ["text", f"at most {CONFIG.max_text_chars} characters"]),
    ("body over the byte limit", "POST", "/api/suggest", b'{"text": "' + b"a" * 200_000 + b'"}',
     "application/json", 413, ["bytes", f"{CONFIG.max_text_chars} characters", "serve.max_text_chars"]),
    ("malformed JSON", "POST", "/api/suggest", b'{"text": "hi"', "application/json", 422, ["not valid JSON"]),
    ("not an object", "POST", "/api/suggest", b"[1, 2]", "application/json", 422, ["body"]),
    ("text not a string", "POST", "/api/suggest", b'{"text": 5}', "application/json", 422, ["text:", "string"]),
    ("k not an integer", "POST", "/api/suggest", b'{"text": "hi", "k": "3"}', "application/json", 422,
     ["k:", "integer"]),
    ("k zero", "POST", "/api/suggest", b'{"text": "hi", "k": 0}', "application/json", 422,
     ["k:", "greater than or equal to 1"]),
    ("k too large", "POST", "/api/suggest", json.dumps({"text": "hi", "k": CONFIG.max_suggestions + 1}),
     "application/json", 422, ["k:", f"less than or equal to {CONFIG.max_suggestions}"]),
    ("a lone surrogate", "POST", "/api/suggest", b'{"text": "going \\ud800 to"}', "application/json", 422,
     ["text:", "unicode"]),
    ("not UTF-8", "POST", "/api/suggest", b'{"text": "caf\xe9 au lait"}', "application/json", 400,
     ["not UTF-8", "0xe9", "position 13"]),
    ("not JSON by its type", "POST", "/api/suggest", b"text=hi", "application/x-www-form-urlencoded", 415,
     ["application/json"]),
    ("unknown route", "GET", "/nothing", b"", None, 404, ["no route GET /nothing", "/api/suggest"]),
    ("a path into the project", "GET", "/../params.yaml", b"", None, 404, ["no route"]),
    ("the page's file by name", "GET", "/web/index.html", b"", None, 404, ["no route"]),
    ("wrong method", "GET", "/api/suggest", b"", None, 405, ["no route GET /api/suggest"]),
]


@pytest.mark.parametrize("what, method, path, body, content_type, status, words", BAD_INPUTS,
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_gets_a_clear_answer_and_the_server_keeps_serving(client, what, method, path, body, content_type,
                                                                     status, words):
    headers = {"content-type": content_type} if content_type else {}
    data = body.encode() if isinstance(body, str) else body
    response = client.request(method, path, content=data or None, headers=headers)
    assert response.status_code == status, response.text
    message = response.json()["error"]
    for word in words:
        assert word in message, (word, message)
    assert client.model_calls == []  # refused before the model read anything
    after = client.post("/api/suggest", json=NORMAL)
    assert after.status_code == 200 and after.json()["completions"]


def test_a_body_sent_in_chunks_is_bounded_too(client):
    def chunks():
        for _ in range(100):
            yield b"a" * 10_000

    response = client.post("/api/suggest", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "bytes" in response.json()["error"]


def test_page_and_docs_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/api/suggest" in page.text and "<script" in page.text and "//" not in page.text.split("<script")[0]
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from a CDN: the page works offline
    assert "/api/suggest" in client.get("/openapi.json").json()["paths"]


def test_serve_command_starts_answers_and_reports_problems(tmp_path, completer):
    save_test_model(completer, tmp_path / "model")
    with served(["--model-dir", str(tmp_path / "model"), "--model", "lstm"]) as url:
        assert url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(url + "/api/suggest", json.dumps(NORMAL).encode(),
                                         {"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        assert answer["model"] == "lstm" and answer["completions"][0].startswith("bea")
        port = url.rsplit(":", 1)[1]
        taken = run_command(["serve", "--model-dir", str(tmp_path / "model"), "--port", port], tmp_path)
        assert taken.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in taken.stderr.decode()
    missing = run_command(["serve", "--model-dir", str(tmp_path / "none"), "--port", "0"], tmp_path)
    assert missing.returncode == 1 and "not found" in missing.stderr.decode()


def test_the_listening_socket_is_tcp_by_name():
    """asyncio sets TCP_NODELAY on accepted connections only when the listening socket's proto is IPPROTO_TCP;
    with proto 0, each answer on a kept-alive connection waited ~40 ms for a delayed ACK."""
    with listening_socket("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP and sock.getsockname()[1] > 0
