"""One loopback rule for every server the project starts: the labeling page and the scoring server
accept and refuse the same hosts (on main before, the scoring server refused `[::1]` and
`LOCALHOST`, which the labeling page accepted)."""

import pytest

from review_sentiment.labeling_app.__main__ import main as labeling_cli
from review_sentiment.loopback import is_loopback
from review_sentiment.serving import LocalModelServer

LOOPBACK = ["127.0.0.1", "127.0.0.2", "localhost", "LOCALHOST", "::1", "[::1]"]
NOT_LOOPBACK = ["0.0.0.0", "192.168.1.10", "::", "example.com", "localhost.example.com"]


@pytest.mark.parametrize("host", LOOPBACK)
def test_both_servers_accept_a_loopback_host(host, monkeypatch):
    served = []
    monkeypatch.setattr("review_sentiment.labeling_app.__main__.serve", served.append)

    server = LocalModelServer("models:/m@champion", tracking_uri="sqlite:///unused.db", host=host)
    labeling_cli(["serve", "--manifest", "m", "--instructions", "i", "--categories", "c",
                  "--store", "s", "--job-name", "j", "--per-item", "1", "--host", host])

    assert is_loopback(host)
    assert server.host == host.strip("[]") and len(served) == 1


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_both_servers_refuse_another_host(host, monkeypatch):
    monkeypatch.setattr("review_sentiment.labeling_app.__main__.serve", lambda args: None)

    assert not is_loopback(host)
    with pytest.raises(ValueError, match="allow_remote"):
        LocalModelServer("models:/m@champion", tracking_uri="sqlite:///unused.db", host=host)
    with pytest.raises(SystemExit):
        labeling_cli(["serve", "--manifest", "m", "--instructions", "i", "--categories", "c",
                      "--store", "s", "--job-name", "j", "--per-item", "1", "--host", host])
