"""The run summary: the hook collects what nodes returned and logs, after the pipeline, only the
parts of the flow that ran, with the champion decision."""

from __future__ import annotations

import logging

from kedro.pipeline import Node

from review_sentiment.run_summary import RunSummaryHooks, summary_lines

REGISTERED_NOT_PROMOTED = {
    "model_name": "review-sentiment",
    "version": 2,
    "model_uri": "models:/review-sentiment/2",
    "macro_f1": 0.51,
    "previous_champion_version": 1,
    "previous_champion_macro_f1": 0.52,
    "champion_version": 1,
    "promoted": False,
    "feature_set": "bigram",
}


def _node(name: str, outputs: list[str]) -> Node:
    return Node(func=lambda *args: None, inputs=None, outputs=outputs, name=name)


def _run(hooks: RunSummaryHooks, nodes: list[tuple[Node, dict, dict]]) -> None:
    """The hook calls Kedro makes for a run of `nodes`: (node, inputs, outputs) each."""
    hooks.before_pipeline_run()
    for node, inputs, outputs in nodes:
        hooks.before_node_run(node=node, inputs=inputs)
        hooks.after_node_run(node=node, outputs=outputs)
    hooks.after_pipeline_run()


def _summary(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "review_sentiment.run_summary"]


def test_a_training_run_logs_the_decision_and_nothing_about_labels(caplog):
    caplog.set_level(logging.INFO, logger="review_sentiment.run_summary")
    selection = {"feature_set": "tfidf_sublinear+lr", "cv_macro_f1": {"bigram+sgd": 0.5}}

    _run(
        RunSummaryHooks(),
        [
            (_node("fit_chosen_model", ["best_model", "model_selection"]), {},
             {"best_model": object(), "model_selection": selection}),
            (_node("evaluate", ["bigram_test_metrics", "chosen_test_metrics"]), {},
             {"bigram_test_metrics": {"macro_f1": 0.48}, "chosen_test_metrics": {"macro_f1": 0.51}}),
            (_node("register_best_model", ["model_registration"]),
             {"params:training": {"champion_alias": "champion"}},
             {"model_registration": REGISTERED_NOT_PROMOTED}),
        ],
    )  # fmt: skip

    summary = _summary(caplog)
    assert summary[0].startswith("Run summary: 3 nodes in ")
    assert "  models: test macro-F1 tfidf_sublinear+lr (chosen) 0.510, bigram 0.480" in summary
    assert (
        "  champion: review-sentiment v2 registered, not promoted: test macro-F1 0.510 ≤ "
        "champion v1 0.520 on the same test set"
    ) in summary
    assert not any(line.lstrip().startswith(("labels:", "data:", "endpoint:")) for line in summary)


def test_a_promotion_names_the_alias_from_the_training_parameters():
    promoted = {**REGISTERED_NOT_PROMOTED, "macro_f1": 0.53, "promoted": True, "champion_version": 2}

    lines = summary_lines({"model_registration": promoted}, {}, seconds=3.0, alias="production")

    assert lines[1] == (
        "  champion: review-sentiment v2 registered and promoted to production: test macro-F1 "
        "0.530 > production v1 0.520 on the same test set"
    )


def test_the_first_version_has_no_champion_to_beat():
    first = {**REGISTERED_NOT_PROMOTED, "version": 1, "previous_champion_version": None,
             "previous_champion_macro_f1": None, "promoted": True, "champion_version": 1}  # fmt: skip

    lines = summary_lines({"model_registration": first}, {}, seconds=3.0)

    assert lines[1].endswith("promoted to champion: test macro-F1 0.510, no champion before")


def test_a_labeling_and_deployment_run_says_who_labeled_and_where_the_endpoint_answered(caplog):
    caplog.set_level(logging.INFO, logger="review_sentiment.run_summary")
    labeling = {"items": 1000, "labeled_by_people": 250, "labeled_by_machine": 700, "unlabeled": 50,
                "queued_for_people": 50, "queued_for_more_answers": 0}  # fmt: skip
    smoke = {"model_uri": "models:/review-sentiment@champion", "registered_version": 3,
             "endpoint": "http://127.0.0.1:5001", "reviews": 5, "predictions": ["positive"] * 5,
             "expected": ["positive"] * 5, "agreement": 0.8, "seconds": 0.1}  # fmt: skip

    _run(
        RunSummaryHooks(),
        [
            (_node("label_reviews", ["labeling_summary"]),
             {"params:labeling": {"workforce": "automated"}}, {"labeling_summary": labeling}),
            (_node("find_label_issues", ["label_review_queue"]), {},
             {"label_review_queue": [{"position": 1}, {"position": 7}]}),
            (_node("deploy_champion", ["deployment_smoke_test"]), {},
             {"deployment_smoke_test": smoke}),
        ],
    )  # fmt: skip

    summary = _summary(caplog)
    assert (
        "  labels: 950 of 1,000 reviews labeled (automated): 250 by people, 700 by machine; "
        "50 waiting for people (labeling_queue.json); 2 likely label errors to check "
        "(label_review_queue.json)"
    ) in summary
    endpoint = [line for line in summary if line.startswith("  endpoint: ")]
    assert endpoint and endpoint[0].startswith(
        "  endpoint: http://127.0.0.1:5001 served models:/review-sentiment@champion (v3): "
        "4 of 5 test reviews labeled as the test set says"
    )
    assert not any(line.startswith(("  champion:", "  models:")) for line in summary)


def test_the_header_names_the_slowest_nodes():
    lines = summary_lines({}, {"deploy_champion": 11.2, "split_reviews": 0.1, "find_label_issues": 48.0,
                               "register_best_model": 14.6}, seconds=80.0)  # fmt: skip

    assert lines == [
        "Run summary: 4 nodes in 80 s; slowest find_label_issues 48 s, register_best_model 15 s, "
        "deploy_champion 11 s"
    ]


def test_a_summary_that_cannot_be_made_does_not_fail_the_run(caplog):
    caplog.set_level(logging.INFO, logger="review_sentiment.run_summary")
    broken = {**REGISTERED_NOT_PROMOTED, "macro_f1": "not a number"}

    _run(RunSummaryHooks(), [(_node("register_best_model", ["model_registration"]), {},
                              {"model_registration": broken})])  # fmt: skip

    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning and warning[0].getMessage().startswith("No run summary: ValueError")


def test_a_refresh_run_ends_with_its_one_line_result(caplog):
    line = "Refresh: no new reviews in 1 arrival file (newest a.csv) (3 seen before): nothing labeled, trained or deployed"
    summary = {"line": line, "new_reviews": {"arrivals": ["a.csv"]}}

    with caplog.at_level(logging.INFO):
        _run(RunSummaryHooks(), [(_node("summarise_refresh", ["refresh_summary"]), {}, {"refresh_summary": summary})])

    assert _summary(caplog)[-1] == f"  {line}"
