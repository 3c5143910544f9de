"""The people workforce: a small server-rendered web app where annotators label the reviews of one
labeling job one by one.

Every answer is committed to the job in a `LabelStore` before the next review is shown; the review
shown is reserved for its annotator for a while, so two people are not handed the same one. Review
text is user content and always escaped (defences in `security`). Time per item runs from the
server rendering the page to the server receiving the answer, carried in a signed hidden field
(no client clock involved).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from os import PathLike
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.exceptions import HTTPException as StarletteHTTPException

from review_sentiment.ground_truth.categories import label_classes
from review_sentiment.ground_truth.manifest import parse_manifest
from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling.queue import read_queue
from review_sentiment.labeling_app.job import AlreadyAnswered
from review_sentiment.labeling_app.reservations import DEFAULT_RESERVE_SECONDS
from review_sentiment.labeling_app.security import check_csrf, csrf_token, protect
from review_sentiment.labeling_app.store import LabelStore
from review_sentiment.loopback import LOOPBACK_HOSTS

MAX_NAME_LENGTH = 64
# Keys 1-9 choose a class; S skips; U and Backspace undo.
_CLASS_KEYS = "123456789"


def create_app(  # noqa: PLR0913
    *,
    manifest_path: str | PathLike,
    instructions_path: str | PathLike,
    label_categories_path: str | PathLike,
    store_path: str | PathLike,
    job_name: str,
    per_item: int = 1,
    reserve_seconds: float = DEFAULT_RESERVE_SECONDS,
    priority_path: str | PathLike | None = None,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    secret_key: str | None = None,
) -> FastAPI:
    """The labeling app over the items of an input manifest, as the labeling job `job_name`.

    Args:
        manifest_path: Ground Truth input manifest (JSON Lines with `source`, ideally `review_id`).
        instructions_path: worker instructions as an HTML fragment (trusted project output: shown
            as is; the page's CSP still blocks its scripts, inline styles and foreign images).
        label_categories_path: Ground Truth label categories JSON; buttons follow its order.
        store_path: the SQLite label store; created if missing, resumed if present. Other jobs
            in it are neither shown nor counted, except answers to the same reviews in earlier
            jobs of the same name, which stand.
        job_name: the job's name; with the manifest's fingerprint it names the job.
        per_item: how many people label each item.
        reserve_seconds: how long an item shown to someone is held for them.
        priority_path: the labeling queue, read at start: a JSON list of items to label first
            (e.g. the least certain ones), in that order, each an item key or
            `{"item": key, "answers": n}` for one that n different people should label (more
            than `per_item`, e.g. a validation item of automated labeling).
        allowed_hosts: Host headers served; the loopback names by default, which also stops DNS
            rebinding. `["*"]` for a server reached from other machines.
        secret_key: signs the session cookie and the per-item tickets; by default a random
            secret kept in the store, so sessions survive restarts.

    Raises:
        ManifestError: a manifest line is not a JSON object.
        ValueError: bad label categories, `per_item` < 1, `reserve_seconds` < 0, a priority
            entry that is not an item key or `{"item", "answers"}` (named by its index),
            priority keys not in the manifest, or a key given two texts in the manifest.
    """
    if per_item < 1:
        raise ValueError(f"per_item must be 1 or more, got {per_item}")
    if not reserve_seconds >= 0:
        raise ValueError(f"reserve_seconds must be 0 or more, got {reserve_seconds}")
    lines = parse_manifest(Path(manifest_path).read_bytes(), str(manifest_path))
    classes = label_classes(json.loads(Path(label_categories_path).read_text(encoding="utf-8")))
    instructions = Path(instructions_path).read_text(encoding="utf-8")
    store = LabelStore(store_path)
    try:
        job = store.open_job(job_name, lines)
        priority, answers = _read_priority(priority_path, set(job.keys()))
    except BaseException:
        store.close()
        raise
    secret_key = secret_key or store.secret("labeling-app")
    tickets = URLSafeSerializer(secret_key, salt="labeling-ticket")
    templates = Jinja2Templates(
        env=jinja2.Environment(
            loader=jinja2.PackageLoader("review_sentiment.labeling_app", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
    )
    buttons = [
        {"class_name": name, "key": _CLASS_KEYS[index] if index < len(_CLASS_KEYS) else None}
        for index, name in enumerate(classes)
    ]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="review-sentiment labeling",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.store = store
    app.state.job = job
    static = StaticFiles(packages=[("review_sentiment.labeling_app", "static")])
    app.mount("/static", static, name="static")

    def render(
        request: Request,
        name: str,
        context: dict[str, Any],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        context = {
            "csrf_token": csrf_token(request),
            "nonce": request.state.nonce,
            "annotator": request.session.get("annotator"),
            "job": job,
            **context,
        }
        return templates.TemplateResponse(
            request, name, context, status_code=status_code, headers=headers
        )

    @app.get("/", response_class=HTMLResponse)
    def start(request: Request) -> Response:
        if request.session.get("annotator"):
            return _see_other("/label")
        return render(request, "start.html", {"error": None, "max_name_length": MAX_NAME_LENGTH})

    @app.post("/start")
    def start_labeling(
        request: Request,
        name: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(request, csrf)
        name = " ".join(name.split())
        error = _name_problem(name)
        if error:
            context = {"error": error, "max_name_length": MAX_NAME_LENGTH}
            return render(request, "start.html", context, status_code=400)
        request.session["annotator"] = name
        return _see_other("/label")

    @app.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        check_csrf(request, csrf)
        annotator = request.session.pop("annotator", None)
        if annotator:
            job.release(annotator)  # their review goes to the next person at once
        return _see_other("/")

    @app.get("/label", response_class=HTMLResponse)
    def label_page(request: Request, item: str | None = None) -> Response:
        annotator = request.session.get("annotator")
        if not annotator:
            return _see_other("/")
        # `item` is the one just undone: show it again first if it still wants an answer.
        order = [item, *priority] if item else priority
        line = job.next_item(
            annotator,
            per_item=per_item,
            priority=order,
            answers=answers,
            reserve_seconds=reserve_seconds,
        )
        progress = job.progress(per_item=per_item)
        mine = progress["annotators"].get(annotator, {"labels": 0, "skipped": 0})
        context = {"progress": progress, "mine": mine}
        if line is None:
            return render(request, "done.html", context)
        key = item_key(line)
        ticket = tickets.dumps(
            {"job": job.id, "item": key, "annotator": annotator, "shown": _now()}
        )
        context |= {
            "instructions": instructions,
            "review": line.get("source", ""),
            "ticket": ticket,
            "buttons": buttons,
        }
        return render(request, "label.html", context)

    def read_ticket(request: Request, ticket: str) -> tuple[str, str, float]:
        annotator = request.session.get("annotator")
        try:
            payload = tickets.loads(ticket)
        except BadSignature as error:
            raise HTTPException(400, "the answer's ticket is not valid: reload the page") from error
        if not annotator or payload.get("annotator") != annotator:
            raise HTTPException(409, "this page was shown to another name: reload the page")
        if payload.get("job") != job.id:
            raise HTTPException(409, "this review is from another batch: reload the page")
        return payload["item"], annotator, payload["shown"]

    @app.post("/label")
    def answer(
        request: Request,
        csrf: Annotated[str, Form()] = "",
        ticket: Annotated[str, Form()] = "",
        class_name: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(request, csrf)
        key, annotator, shown = read_ticket(request, ticket)
        if class_name not in classes:
            raise HTTPException(400, f"label {class_name!r} is not one of {', '.join(classes)}")
        seconds = round(max(0.0, _now() - shown), 3)
        try:
            job.record(key, annotator, class_name, seconds)
        except AlreadyAnswered:
            pass  # a double submit or a second tab: the first answer stands
        return _see_other("/label")

    @app.post("/skip")
    def skip(
        request: Request,
        csrf: Annotated[str, Form()] = "",
        ticket: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(request, csrf)
        key, annotator, _ = read_ticket(request, ticket)
        try:
            job.skip(key, annotator)
        except AlreadyAnswered:
            pass
        return _see_other("/label")

    @app.post("/undo")
    def undo(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        check_csrf(request, csrf)
        annotator = request.session.get("annotator")
        if not annotator:
            return _see_other("/")
        key = job.undo_last(annotator)
        return _see_other("/label" if key is None else f"/label?item={quote(key, safe='')}")

    @app.get("/progress", response_class=HTMLResponse)
    def progress_page(request: Request) -> Response:
        return render(request, "progress.html", {"progress": job.progress(per_item=per_item)})

    # Starlette's class, so that 404 and 405 get the page too.
    @app.exception_handler(StarletteHTTPException)
    def refuse(request: Request, error: StarletteHTTPException) -> Response:
        context = {"detail": error.detail}
        return render(request, "error.html", context, error.status_code, error.headers)

    protect(app, secret_key=secret_key, allowed_hosts=allowed_hosts)
    return app


def _read_priority(
    path: str | PathLike | None, known: set[str]
) -> tuple[list[str], dict[str, int]]:
    """The queue's item keys in order, and the answers wanted for those that name a count."""
    if path is None:
        return [], {}
    entries = read_queue(json.loads(Path(path).read_text(encoding="utf-8")), str(path))
    keys = [key for key, _ in entries]
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValueError(
            f"{path}: {len(unknown)} item keys are not in the manifest, e.g. {unknown[:3]}; "
            "a queue written for another batch? Run the labeling pipeline again or delete it"
        )
    return keys, {key: answers for key, answers in entries if answers is not None}


def _name_problem(name: str) -> str | None:
    if not name:
        return "Enter your name."
    if len(name) > MAX_NAME_LENGTH:
        return f"Use at most {MAX_NAME_LENGTH} characters."
    if not name.isprintable():
        return "Use printable characters only."
    return None


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _now() -> float:
    return time.time()
