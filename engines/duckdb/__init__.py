"""The DuckDB engine (embedded default), one module per concern::

engine.py     DuckDBEngine: the seam (engines.base.Engine) on one warehouse file
connect.py    opening the file; DuckDB errors -> WarehouseBusy / WarehouseError
landing.py    dlt's DuckDB destination         dbt.py       profile env, row counts
ml_store.py   ML tables (DDL from Arrow)       publish.py   write-audit-publish
key_store.py  pseudonym key + fingerprints     ledger.py    ops.run_ledger
reader.py     read-only reader (dashboard)
colours.py    blue/green: the live colour      seed.py      the build colour made ready
colour_state.py  what each colour holds (published / building, basis): may it be continued
"""

from engines.duckdb.engine import DuckDBEngine

__all__ = ["DuckDBEngine"]
