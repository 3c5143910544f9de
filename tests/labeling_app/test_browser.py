"""The labeling app in a real browser: Debian's Chromium driven by Playwright, against the real
server started as `python -m review_sentiment.labeling_app serve` on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from review_sentiment.labeling_app.store import LabelStore
from tests.labeling_app import JOB, manifest_lines, write_manifest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)",
)

REVIEWS = {
    "r1": "Great dog food, my lab loves it",
    "r2": "Arrived broken and late",
    "r3": "It is a can of food",
    "r4": "Tastes fine, nothing special",
    "r5": "Best snack I have ever had",
    "r6": "Would not buy again",
    "r7": "Does what it says",
}
HOSTILE = {
    "x1": "<script>window.__pwned = 1; alert('script')</script>",
    "x2": '<img src=x onerror="window.__pwned = 2; alert(\'img\')">',
    "x3": "</blockquote><svg onload=\"window.__pwned = 3\"><b id=injected>bold</b>",
    "x4": "<iframe srcdoc=\"<script>parent.__pwned = 4</script>\"></iframe>",
}


class Server:
    """The labeling app as a real process, which a test can kill -9 and start again."""

    def __init__(self, files: dict[str, Path], log: Path, per_item: int = 1) -> None:
        self.files = files
        self.log = log
        self.per_item = per_item
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable, "-m", "review_sentiment.labeling_app", "serve",
            "--manifest", str(self.files["manifest"]),
            "--instructions", str(self.files["instructions"]),
            "--categories", str(self.files["categories"]),
            "--store", str(self.files["store"]),
            "--job-name", JOB, "--per-item", str(self.per_item),
            "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 20
        while True:
            try:
                with opener.open(f"{self.url}/progress", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {self.log.read_text()}")
                time.sleep(0.1)

    def kill_9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _files(directory: Path, reviews: dict[str, str]) -> dict[str, Path]:
    files = {
        "manifest": directory / "input.manifest",
        "instructions": directory / "instructions.html",
        "categories": directory / "label_categories.json",
        "store": directory / "labels.db",
    }
    write_manifest(files["manifest"], reviews)
    files["instructions"].write_text("<h2>Label the sentiment</h2><p>Choose one label.</p>")
    files["categories"].write_text(
        json.dumps({"labels": [{"label": name} for name in ("positive", "negative", "neutral")]})
    )
    return files


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Makes pages in browser contexts of their own: separate cookies, as two people's browsers."""
    contexts = []

    def new_page():
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def _server(tmp_path: Path, reviews: dict[str, str]) -> Iterator[Server]:
    server = Server(_files(tmp_path, reviews), tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(tmp_path):
    yield from _server(tmp_path, REVIEWS)


@pytest.fixture
def hostile_server(tmp_path):
    yield from _server(tmp_path, {**HOSTILE, "r1": REVIEWS["r1"]})


def _log_in(page, server: Server, name: str) -> None:
    page.goto(server.url)
    page.fill("#name", name)
    page.press("#name", "Enter")
    page.wait_for_selector("#review")


def _expect_review(page, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#review")).to_have_text(text)
    # The key handler is the last thing on the page: answer only once it is there.
    page.wait_for_load_state("load")


def test_keys_clicks_undo_and_a_kill_9_of_the_server(server, page):
    _log_in(page, server, "ana")
    _expect_review(page, REVIEWS["r1"])
    page.keyboard.press("1")  # r1 positive
    _expect_review(page, REVIEWS["r2"])
    page.get_by_role("button", name="negative").click()  # r2 negative
    _expect_review(page, REVIEWS["r3"])
    page.keyboard.press("s")  # r3 skipped
    _expect_review(page, REVIEWS["r4"])
    page.keyboard.press("3")  # r4 neutral ...
    _expect_review(page, REVIEWS["r5"])
    page.keyboard.press("u")  # ... taken back
    _expect_review(page, REVIEWS["r4"])
    page.get_by_role("button", name="positive").click()  # r4 positive
    _expect_review(page, REVIEWS["r5"])

    server.kill_9()
    server.start()
    page.goto(f"{server.url}/label")  # the same browser: the session cookie still holds

    _expect_review(page, REVIEWS["r5"])
    page.keyboard.press("2")  # r5 negative ...
    _expect_review(page, REVIEWS["r6"])
    page.keyboard.press("Backspace")  # ... taken back
    _expect_review(page, REVIEWS["r5"])
    page.keyboard.press("3")  # r5 neutral
    _expect_review(page, REVIEWS["r6"])
    server.kill_9()

    with LabelStore(server.files["store"]) as store:
        labels = store.annotations()
        job = store.open_job(JOB, manifest_lines(REVIEWS))
        assert job.next_item("ana", per_item=1)["review_id"] == "r6"
        progress = job.progress()
    assert labels[["item_key", "annotator", "class_name"]].values.tolist() == [
        ["r1", "ana", "positive"],
        ["r2", "ana", "negative"],
        ["r4", "ana", "positive"],
        ["r5", "ana", "neutral"],
    ]
    assert (labels["seconds"] > 0).all()
    assert progress["annotators"]["ana"]["skipped"] == 1


def test_hostile_reviews_run_nothing(hostile_server, page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _log_in(page, hostile_server, "ana")

    for key, text in HOSTILE.items():
        _expect_review(page, text)
        assert page.evaluate("window.__pwned") is None, key
        assert page.locator("#injected, #review *, iframe, svg").count() == 0, key
        page.keyboard.press("2")
    _expect_review(page, REVIEWS["r1"])

    assert dialogs == []
    # The page's own nonce'd script ran: the key presses above answered.
    with LabelStore(hostile_server.files["store"]) as store:
        assert store.annotations()["item_key"].tolist() == list(HOSTILE)


def test_two_people_in_two_browsers_never_get_the_same_review(server, new_page):
    from playwright.sync_api import expect

    ana, bob = new_page(), new_page()
    _log_in(ana, server, "ana")
    _log_in(bob, server, "bob")
    # Each is handed the first review nobody holds; answering hands them the next free one.
    turns = [(ana, "r1"), (bob, "r2"), (ana, "r3"), (bob, "r4"), (ana, "r5"), (bob, "r6"), (ana, "r7")]
    for page, key in turns:
        _expect_review(page, REVIEWS[key])
        page.keyboard.press("1")
        # The answer is in and the next page loaded before the other person acts: under load the
        # two next-review requests could otherwise race for the same free review.
        expect(page.locator("#review", has_text=REVIEWS[key])).to_have_count(0)
        if key == "r6":  # r7 is ana's: nothing left for bob, though he has not seen it
            expect(bob.locator("#done")).to_be_visible()
    expect(ana.locator("#done")).to_be_visible()

    with LabelStore(server.files["store"]) as store:
        labels = store.annotations()
    assert labels[["item_key", "annotator"]].values.tolist() == [
        [key, "ana" if page is ana else "bob"] for page, key in turns
    ]


def test_progress_shows_the_current_batch_after_a_new_manifest(server, page):
    from playwright.sync_api import expect

    _log_in(page, server, "ana")
    for key in ("r1", "r2", "r3"):
        _expect_review(page, REVIEWS[key])
        page.keyboard.press("1")
    _expect_review(page, REVIEWS["r4"])
    server.stop()
    # The next batch: r1 again with the same text (labeled already) and two new reviews.
    write_manifest(server.files["manifest"], {"n1": "A new review", "r1": REVIEWS["r1"], "n2": "More"})
    server.start()

    page.goto(f"{server.url}/progress")
    expect(page.locator("#done")).to_have_text("1")
    expect(page.locator("#total")).to_have_text("3")
    expect(page.locator('[data-annotator="ana"] .labels')).to_have_text("1")
    page.goto(f"{server.url}/label")
    _expect_review(page, "A new review")
    page.keyboard.press("2")
    _expect_review(page, "More")

    with LabelStore(server.files["store"]) as store:
        assert store.annotations()["item_key"].tolist() == ["r1", "r2", "r3", "n1"]
        assert len(store.jobs()) == 2


def test_screenshot_script_saves_the_labeling_page(tmp_path):
    """docs/make_screenshot.py (which made docs/labeling_page.png) still works."""
    files = _files(tmp_path, REVIEWS)
    out = tmp_path / "labeling_page.png"
    subprocess.run(
        [sys.executable, str(REPO / "docs" / "make_screenshot.py"), "--data", str(tmp_path),
         "--out", str(out)],
        check=True,
        timeout=60,
    )  # fmt: skip
    assert files["store"].exists() is False  # the script labels in a throw-away store
    assert out.read_bytes().startswith(b"\x89PNG")
