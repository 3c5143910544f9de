"""The SageMaker Ground Truth format for text classification, in one place: records, label
categories, manifest parsing and serialisation, and the Spark reader of output manifests.

Everything that reads or writes a manifest (the manifest dataset, the Spark reader, the labeling
app and the labeling pipeline) goes through these modules, so the rules cannot drift apart.
"""
