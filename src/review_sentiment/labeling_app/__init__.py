"""The local labeling web page for people and the SQLite store that keeps every answer."""
