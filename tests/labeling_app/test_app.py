"""Tests of the labeling web app through FastAPI's TestClient: escaping, CSRF, progress, one job
per page, reservations between people, the CLI reading the Kedro project."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from review_sentiment.labeling_app import app as app_module
from review_sentiment.labeling_app.__main__ import main
from review_sentiment.loopback import is_loopback
from review_sentiment.labeling_app.app import create_app
from review_sentiment.labeling_app.store import LabelStore
from tests.labeling_app import JOB, write_manifest

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
        "job_name": JOB,
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
        assert store.jobs()[0]["name"] == JOB and len(store.jobs()) == 1
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


def test_two_people_labeling_at_once_are_shown_different_reviews(app, paths):
    with _client(app) as ana, _client(app) as bob:
        ana_page, bob_page = _log_in(ana, "ana"), _log_in(bob, "bob")
        shown = [(_review(ana_page), _review(bob_page))]
        while 'id="review"' in ana_page and 'id="review"' in bob_page:
            ana_page = _answer(ana, ana_page, "positive")
            if 'id="review"' in ana_page:
                shown.append((_review(ana_page), _review(bob_page)))
            bob_page = _answer(bob, bob_page, "negative")
            if 'id="review"' in bob_page and 'id="review"' in ana_page:
                shown.append((_review(ana_page), _review(bob_page)))

    assert all(left != right for left, right in shown)
    with LabelStore(paths["store_path"]) as store:
        keys = store.annotations()["item_key"].tolist()
    assert sorted(keys) == [f"r{n}" for n in range(1, 7)]  # each review labeled once


def test_changing_name_lets_go_of_the_review_shown(app):
    with _client(app) as ana, _client(app) as bob:
        page = _log_in(ana, "ana")
        assert _review(page) == "Great dog food"
        ana.post("/logout", data={"csrf": _field(page, "csrf")})

        assert _review(_log_in(bob, "bob")) == "Great dog food"


def test_a_new_manifest_on_the_same_store_shows_and_counts_only_its_batch(paths, tmp_path):
    with _client(create_app(**paths)) as client:
        page = _answer(client, _log_in(client, "ana"), "positive")  # r1
        _answer(client, page, "negative")  # r2
    new_batch = tmp_path / "new.manifest"
    write_manifest(new_batch, {"r1": REVIEWS[0], "r2": "Arrived broken, edited", "n1": "Brand new"})

    with _client(create_app(**{**paths, "manifest_path": new_batch})) as client:
        progress = client.get("/progress").text
        shown = _label_all(client, _log_in(client, "ana"))

    # r1 has the same text: answered already; r2 has another text: a new item.
    assert re.search(r'<span id="done">1</span> of <span id="total">3</span>', progress)
    assert shown == ["Arrived broken, edited", "Brand new"]
    with LabelStore(paths["store_path"]) as store:
        assert len(store.jobs()) == 2 and len(store.annotations()) == 4


def test_a_page_from_another_batch_is_refused(paths, tmp_path):
    with _client(create_app(**paths)) as client:
        old_page = _log_in(client, "ana")
    new_batch = tmp_path / "new.manifest"
    write_manifest(new_batch, {"r1": REVIEWS[0]})

    with _client(create_app(**{**paths, "manifest_path": new_batch})) as client:
        new_page = _log_in(client, "ana")
        data = {"csrf": _field(new_page, "csrf"), "ticket": _field(old_page, "ticket")}
        response = client.post("/label", data={**data, "class_name": "positive"})

    assert response.status_code == 409 and "another batch" in response.text
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
    with pytest.raises(ValueError, match=r"1 item keys are not in the manifest, e.g. \['r99'\]; a queue"):
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
        "--job-name", JOB, "--per-item", "1",
        "--host", host,
    ]  # fmt: skip

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"--host {host} is not a loopback address" in capsys.readouterr().err
    assert served == []

    main([*argv, "--allow-remote"])
    assert [args.host for args in served] == [host]


@pytest.fixture
def kedro_project(tmp_path, paths):
    """A Kedro project folder whose catalog names the test's files; env `cloud` moves the
    manifest to S3 and env `other` renames the job."""
    project = tmp_path / "project"
    for folder in ("conf/base", "conf/local", "conf/cloud", "conf/other", "src"):
        (project / folder).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "review_sentiment"\nproject_name = "review-sentiment"\n'
        'kedro_init_version = "1.7.0"\nsource_dir = "src"\n'
    )
    catalog = {
        "input_manifest": paths["manifest_path"],
        "worker_instructions": paths["instructions_path"],
        "label_categories": paths["label_categories_path"],
        "human_annotations": "data/labels.db",  # relative: to the project folder
        "labeling_queue": "data/labeling_queue.json",
    }
    (project / "conf/base/catalog.yml").write_text(
        "".join(f"{name}:\n  type: text.TextDataset\n  filepath: {path}\n" for name, path in catalog.items())
    )
    (project / "conf/base/parameters_labeling.yml").write_text(
        "labeling:\n  job_name: batch-job\n  people:\n    per_item: 2\n"
    )
    (project / "conf/cloud/catalog.yml").write_text(
        "input_manifest:\n  type: text.TextDataset\n  filepath: s3://bucket/input.manifest\n"
    )
    (project / "conf/other/parameters_labeling.yml").write_text(
        "labeling:\n  job_name: other-job\n  people:\n    per_item: 3\n"
    )
    return project


def _served(monkeypatch, argv: list[str]) -> dict:
    served = []
    monkeypatch.setattr("review_sentiment.labeling_app.__main__.serve", served.append)
    main(argv)
    (args,) = served
    return vars(args)


PROJECT_VALUES = ["manifest", "instructions", "categories", "store", "priority", "job_name", "per_item"]
# Kedro 1.7 warns about its own use of OmegaConf on every config load.
ignore_kedro_warnings = pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning")


@ignore_kedro_warnings
def test_cli_reads_files_and_parameters_from_the_kedro_project(kedro_project, paths, monkeypatch):
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    args = _served(monkeypatch, ["serve", "--project", str(kedro_project)])

    assert {name: args[name] for name in PROJECT_VALUES} == {
        "manifest": paths["manifest_path"],
        "instructions": paths["instructions_path"],
        "categories": paths["label_categories_path"],
        "store": kedro_project / "data/labels.db",
        "priority": None,  # no queue file yet
        "job_name": "batch-job",
        "per_item": 2,
    }

    (kedro_project / "data").mkdir()
    (kedro_project / "data/labeling_queue.json").write_text("[]")
    args = _served(monkeypatch, ["serve", "--project", str(kedro_project), "--env", "other"])
    assert (args["job_name"], args["per_item"]) == ("other-job", 3)
    assert args["priority"] == kedro_project / "data/labeling_queue.json"


@ignore_kedro_warnings
def test_cli_options_override_the_project(kedro_project, monkeypatch):
    monkeypatch.setenv("KEDRO_ENV", "other")
    argv = ["serve", "--project", str(kedro_project), "--store", "elsewhere.db", "--per-item", "5"]

    args = _served(monkeypatch, argv)

    assert (args["store"], args["per_item"], args["job_name"]) == ("elsewhere.db", 5, "other-job")


@ignore_kedro_warnings
def test_cli_refuses_a_catalog_path_on_s3(kedro_project, capsys, monkeypatch):
    with pytest.raises(SystemExit):
        main(["serve", "--project", str(kedro_project), "--env", "cloud"])

    error = capsys.readouterr().err
    assert "input_manifest is s3://bucket/input.manifest" in error
    assert "local files only: copy it here and pass --manifest PATH" in error


def test_cli_outside_a_project_says_what_to_pass(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--project", str(tmp_path)])

    assert "is not a Kedro project" in capsys.readouterr().err


@ignore_kedro_warnings
def test_cli_in_this_project_serves_the_catalogs_files(monkeypatch):
    project = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(project)
    monkeypatch.delenv("KEDRO_ENV", raising=False)

    args = _served(monkeypatch, ["serve"])

    primary = project / "data/03_primary"
    queue = primary / "labeling_queue.json"
    assert [args["manifest"], args["instructions"], args["categories"], args["store"]] == [
        primary / "input.manifest",
        primary / "instructions.html",
        primary / "label_categories.json",
        primary / "labels.db",
    ]
    assert args["priority"] == (queue if queue.exists() else None)
    assert args["job_name"] == "review-sentiment"
