"""The BigQuery engine: scale-out (one dataset per schema, behind a prefix)."""
