"""Load on `autocomplete serve` over loopback, bounded in time: typists in an open loop, then a closed loop,
beside the model's own suggestion time without HTTP.

    python benchmarks/serve_load.py [--typists 32] [--interval-ms 200] [--seconds 20] [--model phone|lstm]

* model alone: serve.keyboard_suggestions in this process on the same texts the typists send (no HTTP);
* open loop: each typist types a test text letter by letter, one request every --interval-ms whatever the
  answers do (32 typists x 5 keys/s = 160 requests/s offered); a latency runs from the moment a request was
  due, so a server that falls behind is charged for the wait (no coordinated omission);
* closed loop: C connections, each sending its next request as soon as the answer arrives, for C in
  --concurrency; the most requests/s with 0 errors is the sustained throughput.
Prints requests/s, p50/p95/p99 latency and the errors, and writes reports/benchmarks/serve_load.json.
The client is asyncio with keep-alive HTTP/1.1 connections written by hand: a heavier client on the same
2 cores would measure itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time

import numpy as np

from text_autocomplete.autocomplete import AutocompleteConfig, last_words
from text_autocomplete.cli import MODEL_FOLDERS, PHONE, light_autocompleter
from text_autocomplete.data_utils import DataConfig, read_texts, seeded_sample
from text_autocomplete.params import load_config
from text_autocomplete.paths import TEST_CSV
from text_autocomplete.serve import SUGGEST_ROUTE, ServeConfig, keyboard_suggestions, served

from _results import write_results


def keystrokes(texts: list[str]) -> list[str]:
    """What a typist sends: every prefix of each text, one more letter each time."""
    return [text[:n] for text in texts for n in range(1, len(text) + 1)]


def summary(name: str, latencies_ms: list[float], errors: int, seconds: float) -> dict[str, float]:
    p50, p95, p99 = np.percentile(latencies_ms, [50, 95, 99]) if latencies_ms else (float("nan"),) * 3
    rate = len(latencies_ms) / seconds
    print(f"{name:34s} {rate:7.1f} req/s  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms  "
          f"errors {errors}  ({len(latencies_ms)} answered)")
    return {"requests_per_s": round(rate, 1), "p50_ms": round(float(p50), 3), "p95_ms": round(float(p95), 3),
            "p99_ms": round(float(p99), 3), "errors": errors, "requests": len(latencies_ms) + errors}


class Connection:
    """One keep-alive HTTP/1.1 connection that posts JSON and reads the answer by its Content-Length."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host)

    async def post(self, path: str, payload: dict) -> int:
        body = json.dumps(payload).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        json.loads(await self.reader.readexactly(length))  # an answer that is not JSON is an error too
        return int(head.split(b" ", 2)[1])

    def close(self) -> None:
        self.writer.close()


async def open_loop(host: str, port: int, typed: list[list[str]], interval_s: float, seconds: float):
    """Every typist sends its next prefix every `interval_s`, on a free connection of its own (a new one when
    all of its connections still wait for answers)."""
    latencies, errors = [], 0
    start = time.perf_counter() + 0.5

    async def typist(index: int, prefixes: list[str]) -> None:
        nonlocal errors
        idle: list[Connection] = []
        offset = interval_s * index / len(typed)  # typists start spread over one interval
        pending = []

        async def request(due: float, text: str) -> None:
            nonlocal errors
            connection = idle.pop() if idle else await Connection.open(host, port)
            try:
                status = await connection.post(SUGGEST_ROUTE, {"text": text, "k": 3})
            except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
                errors += 1
                connection.close()
                return
            if status == 200:
                latencies.append(1000 * (time.perf_counter() - due))
            else:
                errors += 1
            idle.append(connection)

        for n in range(int(seconds / interval_s)):
            due = start + offset + n * interval_s
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            pending.append(asyncio.create_task(request(due, prefixes[n % len(prefixes)])))
        await asyncio.gather(*pending)
        for connection in idle:
            connection.close()

    await asyncio.gather(*(typist(i, prefixes) for i, prefixes in enumerate(typed)))
    return latencies, errors


async def closed_loop(host: str, port: int, prefixes: list[str], concurrency: int, seconds: float):
    latencies, errors = [], 0
    stop = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        nonlocal errors
        connection = await Connection.open(host, port)
        n = index * 997  # each worker elsewhere in the texts
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            try:
                status = await connection.post(SUGGEST_ROUTE, {"text": prefixes[n % len(prefixes)], "k": 3})
            except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
                errors += 1
                connection = await Connection.open(host, port)
                continue
            latencies.append(1000 * (time.perf_counter() - sent))
            errors += status != 200
            n += 1
        connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies, errors, time.perf_counter() - began


def model_alone(model: str, prefixes: list[str]) -> list[float]:
    """keyboard_suggestions in this process, as the server calls it, on `prefixes`."""
    completer = light_autocompleter(MODEL_FOLDERS[model], load_config(DataConfig, "data"), phone=model == PHONE)
    context_words = load_config(AutocompleteConfig, "autocomplete").context_words
    phrase_words = load_config(ServeConfig, "serve").phrase_words
    times = []
    for text in prefixes:
        began = time.perf_counter()
        keyboard_suggestions(completer, last_words(text, context_words), 3, phrase_words)
        times.append(1000 * (time.perf_counter() - began))
    return times[20:]  # the first calls warm up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--typists", type=int, default=32)
    parser.add_argument("--interval-ms", type=float, default=200.0, help="between one typist's keystrokes")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the open loop")
    parser.add_argument("--closed-seconds", type=float, default=8.0, help="length of each closed-loop level")
    parser.add_argument("--concurrency", default="1,2,4,8", help="closed-loop connection counts")
    parser.add_argument("--model", choices=tuple(MODEL_FOLDERS), default=PHONE)
    args = parser.parse_args()
    texts = seeded_sample(read_texts(TEST_CSV), 4 * args.typists, seed=0)
    typed = [keystrokes(texts[i::args.typists]) for i in range(args.typists)]  # each typist its own texts
    all_prefixes = [p for prefixes in typed for p in prefixes]
    print(f"{args.model}, {args.typists} typists, {len(all_prefixes):,} distinct keystrokes from "
          f"{len(texts)} test texts")
    figures = {"model": args.model, "typists": args.typists, "interval_ms": args.interval_ms,
               "model_alone": summary("model alone (no HTTP)", times := model_alone(args.model, all_prefixes[:3000]),
                                      0, sum(times) / 1000)}
    with served(["--model", args.model]) as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        latencies, errors = asyncio.run(open_loop(host, int(port), typed, args.interval_ms / 1000, args.seconds))
        figures["open_loop"] = {"offered_per_s": round(args.typists * 1000 / args.interval_ms, 1),
                                **summary(f"open loop, {args.typists} typists", latencies, errors, args.seconds)}
        closed = {}
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            latencies, errors, seconds = asyncio.run(closed_loop(host, int(port), all_prefixes, concurrency,
                                                                 args.closed_seconds))
            closed[str(concurrency)] = summary(f"closed loop, {concurrency} connections", latencies, errors, seconds)
    figures["closed_loop"] = closed
    clean = [c for c in closed.values() if c["errors"] == 0]
    figures["sustained_requests_per_s"] = max((c["requests_per_s"] for c in clean), default=0.0)
    one_at_a_time = closed[min(closed, key=int)]  # no queueing: what HTTP and the client add to the model's time
    figures["http_overhead_p50_ms"] = round(one_at_a_time["p50_ms"] - figures["model_alone"]["p50_ms"], 3)
    print(f"sustained (closed loop, 0 errors): {figures['sustained_requests_per_s']} req/s; HTTP adds "
          f"{figures['http_overhead_p50_ms']} ms at p50 (closed loop at {min(closed, key=int)} connection(s) - "
          f"model alone)")
    write_results("serve_load", figures)


if __name__ == "__main__":
    main()
