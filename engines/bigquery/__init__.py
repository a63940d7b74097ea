"""The BigQuery engine (target ``prod``; tested on bqemulator), one module per concern::

engine.py     BigQueryEngine: the seam (engines.base.Engine) on one GCP project
target.py     BigQueryTarget (settings checked once), credentials, client
landing.py    dlt's BigQuery destination, dataset prefix, emulator endpoint
ml_store.py   ML tables (schema from Arrow)    publish.py   write-audit-publish by copy jobs
key_store.py  pseudonym key + fingerprints     reader.py    read-only reader (dashboard)
"""

from engines.bigquery.engine import BigQueryEngine
from engines.bigquery.target import BigQueryTarget, DestinationError

__all__ = ["BigQueryEngine", "BigQueryTarget", "DestinationError"]
