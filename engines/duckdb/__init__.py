"""The DuckDB engine: the embedded default (one warehouse file)."""
