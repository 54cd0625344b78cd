"""The README's screenshot: the web page of `autocomplete serve` on the committed model, in headless Chromium at
a phone's width, after typing a text key by key.

    python benchmarks/web_demo.py [--text "going to the bea"] [--model phone|lstm]

Writes reports/web_demo.png. Needs Debian's chromium (apt-get install chromium), as the browser test does.
"""
from __future__ import annotations

import argparse
import re
import shutil

from playwright.sync_api import expect, sync_playwright

from text_autocomplete.cli import MODEL_FOLDERS, PHONE
from text_autocomplete.serve import served

SCREENSHOT = "reports/web_demo.png"
SCREEN = {"width": 390, "height": 520}  # a phone-sized page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", default="going to the bea")
    parser.add_argument("--model", choices=tuple(MODEL_FOLDERS), default=PHONE)
    args = parser.parse_args()
    with served(["--model", args.model]) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport=SCREEN, device_scale_factor=2)
        page.goto(url + "/")
        page.locator("#text").press_sequentially(args.text, delay=80)
        partial = args.text.rsplit(" ", 1)[-1]
        expect(page.locator("#suggestions button").first).to_have_text(re.compile("^" + re.escape(partial)))
        expect(page.locator("#rtt")).to_contain_text("ms")
        page.screenshot(path=SCREENSHOT)
        browser.close()
    print(f"wrote {SCREENSHOT}")


if __name__ == "__main__":
    main()
