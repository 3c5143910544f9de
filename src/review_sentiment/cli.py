"""Project commands for the `kedro` CLI: Kedro's own `run`, printing a data error as one line.

Kedro uses a `cli.py` next to `settings.py` in place of its built-in commands of the same name
(`kedro run`, and `python -m review_sentiment` through `find_run_command`). Only `run` is
replaced, and it keeps every option of Kedro's: a `ReviewDataError` (raw reviews that cannot be
used as configured, whose message names the file, the column and the setting to change) ends
the run with that message on stderr and exit code 1 instead of a traceback around it. Any
other exception is left to Kedro, traceback and all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run


def _one_line_errors() -> tuple[type[Exception], ...]:
    """The errors whose message is the whole story, printed alone without a traceback."""
    # Imported once something failed: `kedro --help` should not pay for pandas.
    from review_sentiment.pipelines.data_extraction.errors import ReviewDataError

    return (ReviewDataError,)


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
