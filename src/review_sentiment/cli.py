"""Project commands for the `kedro` CLI: Kedro's own `run`, printing a data error as one line,
and `kedro labels remove`.

Kedro uses a `cli.py` next to `settings.py` in place of its built-in commands of the same name
(`kedro run`, and `python -m review_sentiment` through `find_run_command`). Only `run` is
replaced, and it keeps every option of Kedro's: a `ReviewDataError` (raw reviews that cannot be
used as configured, whose message names the file, the column and the setting to change), a
`CorruptFileError` (a file cut off or from another version, with what to do) or a
`ManifestError` (naming the manifest, the line and the field) ends the run with that message on
stderr and exit code 1 instead of a traceback around it. Any other exception is left to Kedro,
traceback and all. `kedro labels remove` takes labels out of the labeled set on purpose.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run


def _one_line_errors() -> tuple[type[Exception], ...]:
    """The errors whose message is the whole story, printed alone without a traceback."""
    # Imported once something failed: `kedro --help` should not pay for pandas.
    from review_sentiment.files import CorruptFileError
    from review_sentiment.ground_truth.manifest import ManifestError
    from review_sentiment.reviews.errors import ReviewDataError

    return (ReviewDataError, CorruptFileError, ManifestError)


def _as_one_line(error: BaseException) -> str | None:
    """`<type>: <message>` of a one-line error anywhere in `error`'s chain (Kedro wraps what a
    dataset's load raises in a DatasetError), or None if there is none."""
    wanted = _one_line_errors()
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, wanted):
            return f"{type(current).__name__}: {current}"
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _data_errors_as_one_line(callback: Callable[..., Any]) -> Callable[..., Any]:
    """`callback`, ending with a one-line error's line on stderr and exit code 1 instead of a
    traceback; other exceptions propagate unchanged."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except Exception as error:
            line = _as_one_line(error)
            if line is None:
                raise
            click.echo(click.style(line, fg="red"), err=True)
            raise click.exceptions.Exit(1) from None

    return run


@click.group(name="review-sentiment")
def cli() -> None:
    """Commands of this project; Kedro's built-in ones are used for the rest."""


run = click.Command(
    name=kedro_run.name,
    params=kedro_run.params,
    callback=_data_errors_as_one_line(kedro_run.callback),
    help=kedro_run.help,
    short_help=kedro_run.short_help,
    context_settings=kedro_run.context_settings,
)
cli.add_command(run)


@cli.group()
def labels() -> None:
    """The labeled set (data/03_primary/labeled/ and its view, output.manifest)."""


@labels.command()
@click.argument("keys", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why, kept with the removal in the labeled set.")
@click.option("--env", "-e", default=None, help="Kedro configuration environment, as for kedro run.")
def remove(keys: tuple[str, ...], reason: str, env: str | None) -> None:
    """Remove the labels of KEYS (review ids, or the SHA-1 of the text for reviews without one)
    on purpose: a removal round is appended and the output manifest rewritten without them."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from review_sentiment.ground_truth.records import item_key
    from review_sentiment.labeling.labeled_set import collect_labeled_set, removal_round
    from review_sentiment.params import LabelingParams

    project = Path.cwd()
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env) as session:
        catalog = session.load_context().catalog
        categories = catalog.load("label_categories")
        params = LabelingParams.model_validate(catalog.load("params:labeling"))
        labeled = collect_labeled_set(
            catalog.load("label_rounds"), catalog.load("previous_output_manifest"), categories, params
        )
        try:
            name, lines = removal_round(labeled, list(keys), reason)
        except KeyError as error:
            raise click.ClickException(f"{error.args[0]}: nothing removed") from None
        catalog.save("new_label_round", {**labeled.unwritten, name: lines})
        gone = set(keys)
        view = [line for line in labeled.lines if item_key(line) not in gone]
        catalog.save("output_manifest@lines", view)
    click.echo(f"Removed {len(lines)} labels ({name}): {len(view):,} labels in the set")
