"""Command line of the local labeling loop: `python -m review_sentiment.labeling_app serve`.

Run in the project folder, `serve` takes its files from the Kedro catalog and the job's name and
people per item from the parameters (`--env` as for `kedro run`); options override them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from review_sentiment.labeling_app.project import (
    CATALOG_ENTRIES,
    ProjectConfigError,
    check_priority_file,
    read_project_config,
)
from review_sentiment.loopback import LOOPBACK_HOSTS, add_bind_arguments, is_loopback

# Without all of these on the command line, the project's configuration is read.
_FROM_PROJECT = ("manifest", "instructions", "categories", "store", "job_name", "per_item")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m review_sentiment.labeling_app",
        description="The local labeling loop that stands in for SageMaker Ground Truth.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the labeling web app for people",
        description="Run the labeling web app. Unless --manifest, --instructions, --categories, "
        "--store, --job-name and --per-item are all given, the missing ones come from the Kedro "
        "project in --project (its catalog entries "
        + ", ".join(CATALOG_ENTRIES.values())
        + " and its parameters labeling.job_name and labeling.people.per_item).",
    )
    serve.add_argument("--project", type=Path, default=Path("."), help="Kedro project folder")
    serve.add_argument("--env", default=None, help="Kedro configuration environment, as kedro run")
    entries = CATALOG_ENTRIES
    serve.add_argument("--manifest", help=f"input manifest (default: {entries['manifest']})")
    serve.add_argument(
        "--instructions", help=f"worker instructions, HTML (default: {entries['instructions']})"
    )
    serve.add_argument("--categories", help=f"label categories (default: {entries['categories']})")
    serve.add_argument("--store", help=f"SQLite label store (default: {entries['store']})")
    serve.add_argument(
        "--priority",
        help=f"JSON list of item keys to label first (default: {entries['priority']}, if present)",
    )
    serve.add_argument("--job-name", help="labeling job name (default: labeling.job_name)")
    serve.add_argument(
        "--per-item", type=int, help="people per item (default: labeling.people.per_item)"
    )
    serve.add_argument(
        "--reserve-minutes",
        type=float,
        default=10.0,
        help="how long a review shown to someone is held for them (default 10)",
    )
    add_bind_arguments(
        serve, port=8000, port_help="port",
        unprotected="the app has no login, so only on a trusted network",
    )
    return parser


def complete_from_project(args: argparse.Namespace) -> argparse.Namespace:
    """`args` with the options not given taken from the project's configuration (if needed)."""
    if all(getattr(args, name) is not None for name in _FROM_PROJECT):
        return args
    config = read_project_config(args.project, args.env)
    given = {name: value for name, value in vars(args).items() if value is not None}
    return argparse.Namespace(**{**vars(args), **config, **given})


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from review_sentiment.labeling_app.app import create_app

    app = create_app(
        manifest_path=args.manifest,
        instructions_path=args.instructions,
        label_categories_path=args.categories,
        store_path=args.store,
        job_name=args.job_name,
        per_item=args.per_item,
        reserve_seconds=args.reserve_minutes * 60,
        priority_path=args.priority,
        allowed_hosts=["*"] if args.allow_remote else [*LOOPBACK_HOSTS, args.host],
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", server_header=False)


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        if not is_loopback(args.host) and not args.allow_remote:
            parser.error(
                f"--host {args.host} is not a loopback address: anyone who can reach it could "
                "label as anyone; add --allow-remote to serve it anyway"
            )
        if not args.reserve_minutes >= 0:
            parser.error(f"--reserve-minutes must be 0 or more, got {args.reserve_minutes}")
        from review_sentiment.files import CorruptFileError

        try:
            args = complete_from_project(args)
            if args.priority is not None:
                check_priority_file(Path(args.priority))
        except ProjectConfigError as error:
            parser.error(str(error))
        except CorruptFileError as error:
            # The file is wrong, not the command line: its one line, without the usage.
            parser.exit(1, f"{type(error).__name__}: {error}\n")
        if args.per_item < 1:
            parser.error(f"--per-item must be 1 or more, got {args.per_item}")
        serve(args)


if __name__ == "__main__":
    main(sys.argv[1:])
