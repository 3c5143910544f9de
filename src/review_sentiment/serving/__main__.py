"""`python -m review_sentiment.serving`: serve a registered model on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence

from review_sentiment.loopback import add_bind_arguments
from review_sentiment.serving.server import LocalModelServer, ServerStartError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m review_sentiment.serving",
        description="Serve an MLflow model with `mlflow models serve` until Ctrl-C, then stop it cleanly.",
    )
    parser.add_argument(
        "--model-uri", default="models:/review-sentiment@champion", help="default: %(default)s"
    )
    parser.add_argument(
        "--tracking-uri", required=True, help="MLflow tracking/registry URI, e.g. sqlite:///mlruns.db"
    )
    add_bind_arguments(
        parser, port=5001, port_help="0 picks a free port",
        unprotected="the scoring server has no authentication",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes (default: %(default)s)"
    )
    parser.add_argument("--startup-timeout", type=float, default=120, help="seconds (default: %(default)s)")
    return parser


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the `with` block, which stops the server


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        server = LocalModelServer(
            args.model_uri,
            tracking_uri=args.tracking_uri,
            host=args.host,
            port=args.port,
            workers=args.workers,
            startup_timeout=args.startup_timeout,
            allow_remote=args.allow_remote,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with server:
            print(f"Serving {args.model_uri} at {server.url}/invocations (Ctrl-C stops it)", flush=True)
            while server.is_running():
                time.sleep(0.5)
            tail = server.output_tail()
            print(f"error: the server stopped by itself; its output ends:\n{tail}", file=sys.stderr)
            return 1
    except ServerStartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopped.", flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(main())
