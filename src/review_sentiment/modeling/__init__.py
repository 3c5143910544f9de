"""The model search: named feature sets and linear classifiers, cross-validated on the training
split only, one chosen by a stated rule (`search.choose`), tracked as nested MLflow runs."""
