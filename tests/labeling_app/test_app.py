"""Tests of the labeling web app through FastAPI's TestClient: escaping, CSRF, progress, the CLI."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from review_sentiment.labeling_app import app as app_module
from review_sentiment.labeling_app.__main__ import main
from review_sentiment.loopback import is_loopback
from review_sentiment.labeling_app.app import create_app
from review_sentiment.labeling_app.store import LabelStore

HOSTILE = [
    "<script>alert('pwned')</script>",
    '<img src=x onerror="alert(1)">',
    "</blockquote><svg onload=alert(2)>",
]
REVIEWS = ["Great dog food", "Arrived broken", "It is food", *HOSTILE]
CLASSES = ["positive", "negative", "neutral"]


@pytest.fixture
def paths(tmp_path):
    manifest = tmp_path / "input.manifest"
    manifest.write_text(
        "".join(
            json.dumps({"source": text, "review_id": f"r{n}", "star_rating": 5}) + "\n"
            for n, text in enumerate(REVIEWS, start=1)
        ),
        encoding="utf-8",
    )
    instructions = tmp_path / "instructions.html"
    instructions.write_text("<h2>Label the sentiment</h2><p>Read <em>all</em> of it.</p>")
    categories = tmp_path / "label_categories.json"
    categories.write_text(json.dumps({"labels": [{"label": name} for name in CLASSES]}))
    return {
        "manifest_path": manifest,
        "instructions_path": instructions,
        "label_categories_path": categories,
        "store_path": tmp_path / "labels.db",
    }


@pytest.fixture
def app(paths):
    return create_app(**paths)


def _client(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=True)


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden field {name!r} on the page"
    return match.group(1)


def _review(page: str) -> str:
    match = re.search(r'<blockquote id="review" class="review">(.*?)</blockquote>', page, re.S)
    assert match, "no review on the page"
    return match.group(1)


def _log_in(client: TestClient, name: str) -> str:
    """Starts labeling as `name`; returns the first labeling page."""
    start = client.get("/")
    response = client.post("/start", data={"name": name, "csrf": _field(start.text, "csrf")})
    assert response.status_code == 200
    return response.text


def _answer(client: TestClient, page: str, class_name: str) -> str:
    data = {
        "csrf": _field(page, "csrf"),
        "ticket": _field(page, "ticket"),
        "class_name": class_name,
    }
    response = client.post("/label", data=data)
    assert response.status_code == 200, response.text
    return response.text


def _label_all(client: TestClient, page: str, class_name: str = "neutral") -> list[str]:
    """Answers every review offered; returns the escaped review texts in the order shown."""
    shown = []
    while 'id="review"' in page:
        shown.append(_review(page))
        page = _answer(client, page, class_name)
    return shown


def test_review_text_is_always_escaped(app):
    with _client(app) as client:
        shown = _label_all(client, _log_in(client, "ana"))
        # Asking for an answered item again (as after an undo) does not show it again.
        page = client.get("/label?item=r4").text

    assert shown[3:] == [
        "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;",
        "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;",
        "&lt;/blockquote&gt;&lt;svg onload=alert(2)&gt;",
    ]
    assert 'id="done"' in page


def test_labeling_page_shows_instructions_as_html_and_a_nonce_csp(app):
    with _client(app) as client:
        response = client.get("/label", follow_redirects=False)
        assert response.status_code == 303
        page = _log_in(client, "ana")
        policy = client.get("/label").headers["content-security-policy"]

    nonce = re.search(r"script-src 'nonce-([^']+)'", policy)
    assert nonce and "unsafe-inline" not in policy
    assert "<h2>Label the sentiment</h2><p>Read <em>all</em> of it.</p>" in page
    scripts = re.findall(r"<script[^>]*>", page)
    assert len(scripts) == 1 and re.fullmatch(r'<script nonce="[^"]+">', scripts[0])
    buttons = re.findall(r'value="(\w+)"\s+data-key="(\d)"', page)
    assert buttons == [("positive", "1"), ("negative", "2"), ("neutral", "3")]
    assert "star_rating" not in page


def test_label_skip_and_undo_are_stored(app, paths):
    with _client(app) as client:
        page = _log_in(client, "ana")
        page = _answer(client, page, "positive")  # r1
        page = client.post(
            "/skip", data={"csrf": _field(page, "csrf"), "ticket": _field(page, "ticket")}
        ).text  # r2
        page = _answer(client, page, "neutral")  # r3
        page = client.post("/undo", data={"csrf": _field(page, "csrf")}).text
        assert _review(page) == "It is food"
        _answer(client, page, "negative")

    with LabelStore(paths["store_path"]) as store:
        labels = store.annotations()[["item_key", "annotator", "class_name"]].values.tolist()
        assert store.next_item("ana", per_item=1)["review_id"] == "r4"
    assert labels == [["r1", "ana", "positive"], ["r3", "ana", "negative"]]


def test_a_second_post_of_the_same_page_keeps_the_first_answer(app, paths):
    with _client(app) as client:
        page = _log_in(client, "ana")
        _answer(client, page, "positive")
        _answer(client, page, "negative")

    with LabelStore(paths["store_path"]) as store:
        assert store.annotations()["class_name"].tolist() == ["positive"]


def test_a_cross_site_post_is_refused(app, paths):
    with _client(app) as victim, _client(app) as attacker:
        page = _log_in(victim, "ana")
        ticket = _field(page, "ticket")
        forged = {"csrf": "guessed", "ticket": ticket, "class_name": "negative"}

        # The attacker's page posts without the victim's cookie (SameSite) ...
        assert attacker.post("/label", data=forged).status_code == 403
        assert attacker.post("/start", data={"name": "mallory", "csrf": "x"}).status_code == 403
        # ... and even with it, cannot know the session's token.
        assert victim.post("/label", data=forged).status_code == 403
        assert victim.post("/label", data={"ticket": ticket, "class_name": "x"}).status_code == 403
        assert victim.post("/undo", data={}).status_code == 403

    with LabelStore(paths["store_path"]) as store:
        assert store.annotations().empty


def test_a_tampered_ticket_or_unknown_label_is_refused(app, paths):
    with _client(app) as client:
        page = _log_in(client, "ana")
        csrf, ticket = _field(page, "csrf"), _field(page, "ticket")
        answer = {"csrf": csrf, "ticket": ticket, "class_name": "positive"}
        tampered = client.post("/label", data={**answer, "ticket": ticket + "x"})
        unknown = client.post("/label", data={**answer, "class_name": "great"})

    assert tampered.status_code == 400 and "not valid" in tampered.text
    assert unknown.status_code == 400 and "&#39;great&#39; is not one of positive" in unknown.text
    with LabelStore(paths["store_path"]) as store:
        assert store.annotations().empty


def test_start_refuses_an_empty_name(app):
    with _client(app) as client:
        start = client.get("/")
        response = client.post("/start", data={"name": "   ", "csrf": _field(start.text, "csrf")})
    assert response.status_code == 400
    assert "Enter your name." in response.text


def test_progress_page_shows_done_and_per_annotator_numbers(paths, monkeypatch):
    # Server clock readings in call order: each page render, then each answer.
    clock = iter([100.0, 103.0, 200.0, 205.0, 300.0, 400.0, 410.0, 500.0])
    app = create_app(**paths, per_item=2)
    with _client(app) as ana, _client(app) as bob:
        monkeypatch.setattr(app_module, "_now", lambda: next(clock))
        page = _answer(ana, _log_in(ana, "ana"), "positive")  # r1 in 3 s
        _answer(ana, page, "negative")  # r2 in 5 s
        _answer(bob, _log_in(bob, "bob"), "positive")  # r1 in 10 s
        monkeypatch.setattr(app_module, "_now", lambda: 0.0)
        page = ana.get("/progress").text

    assert re.search(r'<span id="done">1</span> of <span id="total">6</span>', page)
    rows = dict(
        (name, cells)
        for name, *cells in re.findall(
            r'<tr data-annotator="(\w+)">\s*<td>\w+</td>\s*<td class="labels">(\d+)</td>\s*'
            r'<td class="skipped">(\d+)</td>\s*<td class="median">([^<]+)</td>',
            page,
        )
    )
    assert rows == {"ana": ["2", "0", "4.0"], "bob": ["1", "0", "10.0"]}


def test_priority_items_are_offered_first(paths, tmp_path):
    priority = tmp_path / "priority.json"
    priority.write_text(json.dumps(["r3", "r2"]))
    with _client(create_app(**paths, priority_path=priority)) as client:
        shown = _label_all(client, _log_in(client, "ana"))
    assert shown[:3] == ["It is food", "Arrived broken", "Great dog food"]


def test_priority_keys_must_be_in_the_manifest(paths, tmp_path):
    priority = tmp_path / "priority.json"
    priority.write_text(json.dumps(["r1", "r99"]))
    with pytest.raises(ValueError, match=r"1 item keys are not in the manifest, e.g. \['r99'\]"):
        create_app(**paths, priority_path=priority)


def test_a_foreign_host_header_is_refused(app):
    # A DNS-rebinding page reaches 127.0.0.1 under its own host name.
    with TestClient(app, base_url="http://attacker.example") as client:
        assert client.get("/").status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_cli_refuses_a_non_loopback_host_without_allow_remote(paths, host, capsys, monkeypatch):
    served = []
    monkeypatch.setattr("review_sentiment.labeling_app.__main__.serve", served.append)
    argv = [
        "serve",
        "--manifest", str(paths["manifest_path"]),
        "--instructions", str(paths["instructions_path"]),
        "--categories", str(paths["label_categories_path"]),
        "--store", str(paths["store_path"]),
        "--host", host,
    ]  # fmt: skip

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"--host {host} is not a loopback address" in capsys.readouterr().err
    assert served == []

    main([*argv, "--allow-remote"])
    assert [args.host for args in served] == [host]
