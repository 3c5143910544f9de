"""Labeling: the workforces that label reviews and the Ground Truth output format they write."""
