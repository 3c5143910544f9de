"""The refresh's champion gate: McNemar's exact test on paired predictions, the recall floor."""

import pytest

from review_sentiment.champion_gate import judge_candidate, mcnemar_exact

CLASSES = ["positive", "negative", "neutral"]


def test_mcnemar_counts_discordant_pairs_and_gives_the_binomial_tail():
    truth = ["positive"] * 10
    candidate = ["positive"] * 8 + ["negative"] * 2
    champion = ["negative"] * 6 + ["positive"] * 2 + ["negative"] * 2

    p_value, candidate_only, champion_only = mcnemar_exact(truth, candidate, champion)

    # 6 items only the candidate gets right, none only the champion: P(X >= 6 | n=6) = 1/64.
    assert (candidate_only, champion_only) == (6, 0)
    assert p_value == pytest.approx(1 / 64)


def test_mcnemar_without_discordant_pairs_is_no_evidence():
    truth = ["positive", "negative"]

    assert mcnemar_exact(truth, truth, truth) == (1.0, 0, 0)


def test_mcnemar_refuses_unpaired_predictions():
    with pytest.raises(ValueError, match="paired"):
        mcnemar_exact(["positive"], ["positive", "negative"], ["positive"])


def test_a_clearly_better_candidate_is_promoted():
    truth = ["positive"] * 20 + ["negative"] * 20
    champion = ["positive"] * 40
    candidate = list(truth)

    decision = judge_candidate(truth, candidate, champion, CLASSES, significance=0.05, max_recall_drop=0.05)

    assert decision.promote
    assert decision.p_value < 0.05 and decision.candidate_macro_f1 > decision.champion_macro_f1


def test_a_small_gain_within_the_noise_keeps_the_champion():
    truth = ["positive"] * 20 + ["negative"] * 20
    champion = list(truth)
    champion[0] = champion[1] = "negative"  # the champion gets two wrong ...
    candidate = list(truth)
    candidate[2] = "negative"  # ... the candidate one: better, but p = 0.5

    decision = judge_candidate(truth, candidate, champion, CLASSES, significance=0.05, max_recall_drop=1.0)

    assert not decision.promote
    assert decision.candidate_macro_f1 > decision.champion_macro_f1
    assert "noise" in decision.reason


def test_a_recall_drop_past_the_floor_keeps_the_champion_even_when_significant():
    truth = ["positive"] * 30 + ["negative"] * 30 + ["neutral"] * 10
    champion = ["positive"] * 30 + ["positive"] * 30 + ["neutral"] * 10
    candidate = ["positive"] * 30 + ["negative"] * 30 + ["neutral"] * 5 + ["positive"] * 5

    decision = judge_candidate(truth, candidate, champion, CLASSES, significance=0.05, max_recall_drop=0.1)

    assert not decision.promote
    assert decision.p_value < 0.05
    assert decision.recall_changes["neutral"] == pytest.approx(-0.5)
    assert "recall of 'neutral' drops by 0.500" in decision.reason


def test_no_champion_means_the_candidate_is_promoted():
    decision = judge_candidate(["positive"], ["negative"], None, CLASSES, significance=0.05, max_recall_drop=0.0)

    assert decision.promote and decision.champion_macro_f1 is None
