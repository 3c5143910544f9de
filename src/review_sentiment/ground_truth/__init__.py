"""The SageMaker Ground Truth format for text classification, in one place: records and the one
line validator (`records`), label categories, size limits (`limits`), manifest parsing and
serialisation (`manifest`), the Spark reader of output manifests (`spark_reader`) and the rule
for an item labeled on several lines (`duplicates`).

Everything that reads or writes a manifest (the manifest dataset, the Spark reader, the labeling
app and the labeling pipeline) goes through these modules, so the rules cannot drift apart.
"""
