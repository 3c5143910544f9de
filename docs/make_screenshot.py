"""Saves a screenshot of the labeling page (docs/labeling_page.png) for the README.

Runs the labeling app on 127.0.0.1 with a throw-away label store and drives Debian's Chromium:

    .venv/bin/python docs/make_screenshot.py [--data data/03_primary] [--out docs/labeling_page.png]

The inputs are what `kedro run` writes to data/03_primary (input.manifest, instructions.html,
label_categories.json).
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from review_sentiment.labeling_app.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DOCS = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def take_screenshot(data: Path, out: Path, *, labels_before: int = 2) -> Path:
    """Labels `labels_before` reviews as "ana" (so the counts are not all zero), then screenshots
    the next one."""
    with tempfile.TemporaryDirectory() as workdir:
        app = create_app(
            manifest_path=data / "input.manifest",
            instructions_path=data / "instructions.html",
            label_categories_path=data / "label_categories.json",
            store_path=Path(workdir) / "labels.db",
            job_name="screenshot",
        )
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"the labeling app did not start on 127.0.0.1:{port}")
            time.sleep(0.05)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(f"http://127.0.0.1:{port}/")
                page.fill("#name", "ana")
                page.press("#name", "Enter")
                page.wait_for_selector("#review")
                for _ in range(labels_before):
                    text = page.inner_text("#review")
                    page.keyboard.press("1")
                    page.wait_for_function(
                        "text => document.querySelector('#review')?.innerText !== text", arg=text
                    )
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), full_page=True)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DOCS.parent / "data" / "03_primary")
    parser.add_argument("--out", type=Path, default=DOCS / "labeling_page.png")
    args = parser.parse_args()
    print(take_screenshot(args.data, args.out))


if __name__ == "__main__":
    main()
