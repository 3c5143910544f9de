"""Automated labeling as Ground Truth does it: people label a sample, a calibrated model labels what
it is confident about, and the items it is least sure of go to people next."""

from review_sentiment.labeling.automated.loop import AutomatedResult, run_automated_labeling
from review_sentiment.labeling.automated.model import build_labeling_model
from review_sentiment.labeling.automated.threshold import Threshold, choose_threshold

__all__ = [
    "AutomatedResult",
    "Threshold",
    "build_labeling_model",
    "choose_threshold",
    "run_automated_labeling",
]
