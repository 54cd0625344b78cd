"""The web page in a real headless Chromium (Debian's package; .ci/run installs it) against `autocomplete serve`
on a free loopback port: typing brings suggestions, Tab and a click accept them, a stale answer never replaces a
newer one."""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from text_autocomplete.serve import served

from tiny_light_model import save_test_model, tiny_autocompleter

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# .ci/run sets this: there a missing browser is a failure, not a skip.
REQUIRED = os.environ.get("TEXT_AUTOCOMPLETE_REQUIRE_BROWSER") == "1"
PHONE = {"width": 390, "height": 700}

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    if REQUIRED:
        raise RuntimeError(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)", allow_module_level=True)


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("model")
    save_test_model(tiny_autocompleter(), model_dir)
    with served(["--model-dir", str(model_dir)]) as url:
        yield url


@pytest.fixture
def page(server_url):
    with playwright_api.sync_playwright() as playwright:
        # As root (CI), Chromium refuses to start without --no-sandbox.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=PHONE)
            page.set_default_timeout(15_000)
            page.goto(server_url + "/")
            yield page
        finally:
            browser.close()


def chips(page) -> list[str]:
    return page.locator("#suggestions button").all_inner_texts()


def test_typing_shows_suggestions_and_tab_accepts_the_first(page, tmp_path):
    expect = playwright_api.expect
    box = page.locator("#text")
    expect(page.locator("#model")).to_contain_text("phone")  # serve's default: what a phone runs
    box.press_sequentially("going to the bea", delay=60)  # key by key, as a person types
    expect(page.locator("#suggestions button").first).to_have_text(re.compile(r"^bea"))
    assert all(word.startswith("bea") for word in chips(page))
    expect(page.locator("#rtt")).to_contain_text("ms")
    page.screenshot(path=tmp_path / "web_demo.png")  # the README's screenshot is taken the same way (benchmarks)
    first = chips(page)[0]
    box.press("Tab")
    expect(box).to_have_value(f"going to the {first} ")
    expect(page.locator("#suggestions button").first).not_to_have_text(re.compile(r"^bea"))  # next words now
    second = chips(page)[1]
    page.locator("#suggestions button").nth(1).click()
    expect(box).to_have_value(f"going to the {first} {second} ")
    expect(box).to_be_focused()


def test_a_stale_answer_never_replaces_a_newer_one(page):
    """The answer to an older text is held back by the test and delivered after the newer text's answer: the
    suggestions shown must stay those of the newer text."""
    expect = playwright_api.expect
    older, newer = "see you at the b", "see you at the bea"
    held = []

    def hold_the_older_answer(route):
        if json.loads(route.request.post_data or "{}").get("text") == older:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/suggest", hold_the_older_answer)
    box = page.locator("#text")
    box.press_sequentially(older, delay=60)
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)  # lets Playwright deliver the routed request
    assert held, "the page never asked for the older text"
    box.press_sequentially(newer[len(older):], delay=60)
    expect(page.locator("#suggestions button").first).to_have_text(re.compile(r"^bea"))
    shown = chips(page)
    stale = {"model": "stale", "completions": ["stale1", "stale2", "stale3"], "next_words": ["stale4"],
             "phrase": "stale phrase", "server_ms": 0.1}
    try:
        held[0].fulfill(status=200, content_type="application/json", body=json.dumps(stale))
    except playwright_api.Error:
        pass  # the page already cancelled that request: also a way never to show it
    page.wait_for_timeout(500)
    assert chips(page) == shown
    assert "stale" not in page.locator("body").inner_text()
