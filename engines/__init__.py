"""Everything engine-specific, behind one interface (see ``engines/base.py``).

One module per engine: ``engines/duckdb/`` (the embedded default) and ``engines/bigquery/``
(scale-out). Steps and commands receive an engine and never ask which one it is.
"""
