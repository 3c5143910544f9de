"""deployment's node: the champion served and smoke-tested (`review_sentiment.serving.deploy`,
which the refresh also runs when it moves the champion)."""

from review_sentiment.serving.deploy import deploy_champion

__all__ = ["deploy_champion"]
