"""Command line of the local labeling loop: `python -m review_sentiment.labeling_app serve ...`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from review_sentiment.loopback import LOOPBACK_HOSTS, is_loopback


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m review_sentiment.labeling_app",
        description="The local labeling loop that stands in for SageMaker Ground Truth.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="run the labeling web app for people", description="Run the labeling web app."
    )
    serve.add_argument("--manifest", required=True, help="input manifest (JSON Lines)")
    serve.add_argument("--instructions", required=True, help="worker instructions (HTML fragment)")
    serve.add_argument("--categories", required=True, help="label categories JSON")
    serve.add_argument("--store", required=True, help="SQLite label store (created if missing)")
    serve.add_argument("--per-item", type=int, default=1, help="people per item (default 1)")
    serve.add_argument("--priority", default=None, help="JSON list of item keys to label first")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host; the app has no login, so only on a trusted network",
    )
    return parser


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from review_sentiment.labeling_app.app import create_app

    app = create_app(
        manifest_path=args.manifest,
        instructions_path=args.instructions,
        label_categories_path=args.categories,
        store_path=args.store,
        per_item=args.per_item,
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
        if args.per_item < 1:
            parser.error(f"--per-item must be 1 or more, got {args.per_item}")
        serve(args)


if __name__ == "__main__":
    main(sys.argv[1:])
