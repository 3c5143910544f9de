"""Who labels: the star rating, people (consolidated), a model with people (automated), a
simulation for tests; and the search for likely label errors. No web, no SQLite, no MLflow here."""
