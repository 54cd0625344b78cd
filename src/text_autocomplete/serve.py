"""`autocomplete serve`: the light model behind an HTTP API and a web page to type into.

    POST /api/suggest  {"text": "going to the bea", "k": 3}
        -> {"model", "completions" (of the word being typed), "next_words", "phrase", "server_ms"}
    GET  /api/health   -> {"model", "vocab_size", "ready"}
    GET  /             the page (web/index.html): suggestions under a text box as you type
    GET  /docs         the OpenAPI documentation FastAPI makes from the routes below

The model is loaded once. Requests are answered one at a time on the event loop: an Autocompleter holds the
state of the text it read, and one suggestion costs about a millisecond, so a thread pool would only add
locking and switching. Every request is read under a byte limit before any JSON parsing, so an oversized body
costs nothing but its refusal.
"""
# No `from __future__ import annotations` here: FastAPI reads the request model from the route's annotation,
# and that model is made inside create_app, where a string annotation could not be resolved.
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException

from text_autocomplete.autocomplete import Autocompleter, last_words

PAGE = Path(__file__).parent / "web" / "index.html"  # the only file the server reads; no path comes from a request
HEALTH_ROUTE, SUGGEST_ROUTE = "/api/health", "/api/suggest"
JSON_CHARACTER_BYTES = 12  # the most bytes one character of a JSON string can take: a \uXXXX\uXXXX escaped pair


@dataclass
class ServeConfig:
    """The ``serve`` section of params.yaml: what one request may ask for."""

    max_text_chars: int  # longer text is refused with 422, before the model reads it
    max_suggestions: int  # k is 1..this
    phrase_words: int  # words in the phrase completion


class Suggestions(BaseModel):
    model: str = Field(description="the model that answered")
    completions: list[str] = Field(description="words that finish the word being typed, most likely first; "
                                               "empty when the text ends with a space")
    next_words: list[str] = Field(description="the most likely next words: after the text, the word being typed "
                                              "taken as its first completion")
    phrase: str = Field(description="the most likely continuation, word by word, the word being typed first")
    server_ms: float = Field(description="time the model took for this request, in milliseconds")


class Health(BaseModel):
    model: str
    vocab_size: int
    ready: bool


def keyboard_suggestions(completer: Autocompleter, text: str, k: int, phrase_words: int) -> dict[str, Any]:
    """What a keyboard shows for `text`: completions of the word being typed, next words, a phrase.

    The text is read with the cleaning the corpus had (Autocompleter.feed); a word being typed whose letters
    no vocabulary word starts with is read as a finished (unknown) word.
    """
    prefix = completer.read_typed(text)
    completions = completer.next_words(k, prefix) if prefix else []
    if prefix:
        completer.feed(completions[0] if completions else prefix)
    next_words = completer.next_words(k)
    phrase = completer.continue_phrase(completions[:1] + next_words[:1], phrase_words)
    return {"completions": completions, "next_words": next_words, "phrase": " ".join(phrase[:phrase_words])}


def field_name(location: tuple | list) -> str:
    """'k' for FastAPI's ('body', 'k'); 'body' for an error of the body as a whole."""
    named = [str(part) for part in location if part != "body" and not isinstance(part, int)]
    return ".".join(named) or "body"


class BodyGuard:
    """ASGI middleware that reads a POST body before the app does, so that a body over `max_bytes` (413, never
    read whole), one that is not JSON by its Content-Type (415) or not UTF-8 (400) gets an answer naming the
    problem (FastAPI would answer the last two with a bare "error parsing the body")."""

    def __init__(self, app, max_bytes: int, max_text_chars: int):
        self.app, self.max_bytes = app, max_bytes
        message = (f"request body over the limit of {max_bytes} bytes (the text may have at most "
                   f"{max_text_chars} characters: serve.max_text_chars)")
        self.too_large = (413, message)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await refuse(send, *self.too_large)
        body, more = b"", True
        while more:  # also bounds a body sent without a length, or longer than it said
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                return await refuse(send, *self.too_large)
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1")
        if content_type.lower() != "application/json":
            return await refuse(send, 415, f"send JSON with Content-Type: application/json (got {content_type!r})")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return await refuse(send, 400, f"request body is not UTF-8: byte {body[exc.start]:#04x} at position "
                                           f"{exc.start}")
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


async def refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(completer: Autocompleter, model_name: str, config: ServeConfig, context_words: int) -> FastAPI:
    """The API and the page for `completer`, which this app uses alone from now on."""
    app = FastAPI(title="text-autocomplete", summary="Tweet autocomplete with a light word-level language model")
    keyboard_suggestions(completer, "warming up the mod", 1, config.phrase_words)  # the first request is not slow
    limit = config.max_text_chars
    request_model = create_model(  # the limits come from params.yaml, so the schema is made here
        "SuggestRequest",
        text=(Annotated[str, Field(max_length=limit, strict=True,
                                   description=f"the text typed so far, at most {limit} characters; "
                                               "may be empty, may end inside a word")], ""),
        k=(Annotated[int, Field(ge=1, le=config.max_suggestions, strict=True,
                                description="how many completions and next words")], 3),
    )

    @app.exception_handler(RequestValidationError)
    async def one_line_errors(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 whose `error` names each bad field in one line; FastAPI's own list stays under `detail`."""
        problems = []
        for error in exc.errors():
            if error["type"] == "json_invalid":
                problems.append(f"body: not valid JSON ({error.get('ctx', {}).get('error', 'decode error')} "
                                f"at character {error['loc'][-1]})")
            else:
                problems.append(f"{field_name(error['loc'])}: {error['msg']}")
        # The input is not echoed back: it may be long, or a lone surrogate ("\\ud800") that cannot be sent.
        detail = [{key: value for key, value in error.items() if key != "input"} for error in exc.errors()]
        return JSONResponse({"error": "; ".join(problems), "detail": jsonable_encoder(detail)}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def named_http_errors(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """404 and 405 say what was asked and what exists."""
        routes = ", ".join(sorted({r.path for r in app.routes if not r.path.startswith("/docs/")}))
        if exc.status_code in (404, 405):
            message = f"no route {request.method} {request.url.path}; the routes are {routes}"
        else:
            message = str(exc.detail)
        return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)

    @app.post(SUGGEST_ROUTE, response_model=Suggestions)
    async def suggest(request: request_model) -> dict[str, Any]:  # type: ignore[valid-type]
        start = time.perf_counter()
        # The CLI reads a text the same way: its last `context_words` words, cleaned as the corpus was.
        answer = keyboard_suggestions(completer, last_words(request.text, context_words), request.k,
                                      config.phrase_words)
        return {"model": model_name, **answer, "server_ms": round(1000 * (time.perf_counter() - start), 3)}

    @app.get(HEALTH_ROUTE, response_model=Health)
    async def health() -> dict[str, Any]:
        return {"model": model_name, "vocab_size": completer.tokenizer.get_vocab_size(), "ready": True}

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(PAGE, media_type="text/html")

    app.add_middleware(BodyGuard, max_bytes=JSON_CHARACTER_BYTES * limit + 1024, max_text_chars=limit)
    return app


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (port 0: a free one, read back with getsockname).

    The protocol is named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on connections accepted from a
    socket whose proto is IPPROTO_TCP, and with it on, every answer on a kept-alive connection waited ~40 ms
    for a delayed ACK (measured: 44 ms per request instead of 0.2).
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def run(app: FastAPI, host: str, port: int, model_name: str) -> None:
    """Serve `app` until interrupted; prints the address to open first (with the port chosen when `port` is 0)."""
    import uvicorn

    sock = listening_socket(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"autocomplete: serving {model_name} at http://{shown}:{bound}/ - open it in a browser "
          f"(API documentation: http://{shown}:{bound}/docs); Ctrl-C stops", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


@contextmanager
def served(args: list[str], timeout_s: float = 120.0) -> Iterator[str]:
    """Start `autocomplete serve --port 0 ARGS` in a subprocess on loopback and yield its base URL once
    /api/health answers; the server is stopped on exit, whatever happened."""
    command = [str(Path(sys.executable).parent / "autocomplete"), "serve", "--host", "127.0.0.1", "--port", "0",
               *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = []  # warnings (e.g. the int8 model's), then the line with the address, or why it could not start
        while "http://" not in (line := process.stdout.readline()):
            seen.append(line)
            if not line:
                process.wait(timeout=timeout_s)
                raise RuntimeError(f"autocomplete serve did not start: {''.join(seen)}")
        threading.Thread(target=process.stdout.read, daemon=True).start()  # a full pipe would stall the server
        base = line.split("http://", 1)[1].split("/", 1)[0]
        url = f"http://{base}"
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(url + HEALTH_ROUTE, timeout=5) as response:
                    if json.load(response)["ready"]:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"autocomplete serve at {url} never became ready") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
