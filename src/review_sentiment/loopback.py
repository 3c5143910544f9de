"""One rule for "this machine only", used by every server the project starts (the labeling app,
the scoring server): they refuse other interfaces unless the user allows it."""

from __future__ import annotations

import argparse
import ipaddress

# Host header values that name this machine; `[::1]` is how a browser writes IPv6 loopback.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only: `localhost` (any letter case), or an address in
    127.0.0.0/8 or ::1, with or without IPv6 brackets."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to anything


def add_bind_arguments(
    parser: argparse.ArgumentParser, *, port: int, port_help: str, unprotected: str
) -> None:
    """--host (loopback by default), --port and --allow-remote, the same for every server;
    `unprotected` says why a non-loopback host needs --allow-remote."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=port, help=f"{port_help} (default: %(default)s)")
    parser.add_argument(
        "--allow-remote", action="store_true", help=f"allow a non-loopback --host; {unprotected}"
    )
