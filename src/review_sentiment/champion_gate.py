"""The refresh's champion gate: a candidate replaces the champion only if it is better on the
frozen test set by more than the noise (McNemar's exact test on the paired predictions) and no
class's recall drops past the configured floor. Pure functions: no MLflow, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from review_sentiment.scoring import macro_f1


@dataclass(frozen=True)
class GateDecision:
    """Whether the candidate becomes champion, why (one line), and the numbers behind it."""

    promote: bool
    reason: str
    candidate_macro_f1: float
    champion_macro_f1: float | None = None
    p_value: float | None = None
    candidate_only_right: int = 0
    champion_only_right: int = 0
    recall_changes: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def mcnemar_exact(
    truth: Sequence[str], candidate: Sequence[str], champion: Sequence[str]
) -> tuple[float, int, int]:
    """One-sided exact McNemar test that the candidate is right more often than the champion on
    the same items: the p-value and the discordant counts (candidate only right, champion only
    right). Under "equally good" each discordant item is a fair coin, so the p-value is
    P(X >= b) for X ~ Binomial(b + c, 1/2); with no discordant item it is 1."""
    from scipy.stats import binomtest

    if not len(truth) == len(candidate) == len(champion):
        raise ValueError(
            f"McNemar needs paired predictions: {len(truth)} labels, {len(candidate)} candidate "
            f"and {len(champion)} champion predictions"
        )
    b = sum(c == t != h for t, c, h in zip(truth, candidate, champion, strict=True))
    c = sum(h == t != p for t, p, h in zip(truth, candidate, champion, strict=True))
    if b + c == 0:
        return 1.0, 0, 0
    return float(binomtest(b, b + c, 0.5, alternative="greater").pvalue), b, c


def recalls(truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """Each class's recall on these labels (classes absent from `truth` left out)."""
    from sklearn.metrics import recall_score

    present = [name for name in classes if name in set(truth)]
    if not present:
        return {}
    scores = recall_score(list(truth), list(predicted), labels=present, average=None, zero_division=0)
    return {name: float(score) for name, score in zip(present, scores, strict=True)}


def judge_candidate(
    truth: Sequence[str],
    candidate: Sequence[str],
    champion: Sequence[str] | None,
    classes: Sequence[str],
    *,
    significance: float,
    max_recall_drop: float,
) -> GateDecision:
    """The gate, in this order: no champion → promote; a class's recall down by more than
    `max_recall_drop` → keep the champion; macro-F1 not higher → keep; McNemar p-value not
    below `significance` → keep (the difference may be noise); else promote."""
    candidate_f1 = macro_f1(list(truth), list(candidate))
    if champion is None:
        return GateDecision(True, f"macro-F1 {candidate_f1:.3f}, no champion before", candidate_f1)
    champion_f1 = macro_f1(list(truth), list(champion))
    p_value, b, c = mcnemar_exact(truth, candidate, champion)
    before, after = recalls(truth, champion, classes), recalls(truth, candidate, classes)
    changes = {name: round(after[name] - before[name], 4) for name in before}
    numbers = dict(
        candidate_macro_f1=candidate_f1, champion_macro_f1=champion_f1, p_value=p_value,
        candidate_only_right=b, champion_only_right=c, recall_changes=changes,
    )  # fmt: skip
    scores = (
        f"macro-F1 {candidate_f1:.3f} vs {champion_f1:.3f}, McNemar p={p_value:.3g} "
        f"({b} reviews only the candidate gets right, {c} only the champion)"
    )
    dropped = {name: -change for name, change in changes.items() if -change > max_recall_drop}
    if dropped:
        worst = max(dropped, key=dropped.get)
        return GateDecision(
            False,
            f"{scores}; recall of {worst!r} drops by {dropped[worst]:.3f} > "
            f"max_recall_drop {max_recall_drop}",
            **numbers,
        )
    if candidate_f1 <= champion_f1:
        return GateDecision(False, f"{scores}; not higher", **numbers)
    if p_value >= significance:
        return GateDecision(
            False, f"{scores}; p >= {significance}: the gain may be noise", **numbers
        )
    return GateDecision(True, f"{scores}; p < {significance}", **numbers)
