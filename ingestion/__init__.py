"""Ingestion: dlt lands a Socrata (SODA) dataset in the warehouse's ``raw`` dataset.

The seam: ``ingest(source_url, state_dir, start_date, ..., destination=...)`` in
``ingestion.pipeline`` takes the dlt destination and dlt's working directory from the engine
(``engines/``) and never asks which warehouse it writes to; its own reads of ``raw`` go through
dlt's SQL client. ``socrata/`` is the dlt source (dlt's REST client, ``dlt.sources.incremental``
on ``:updated_at``), ``profiles/`` describes each dataset, ``quarantine``/``validation``/``drift``
judge the records. The replay API used by the demo and the tests is the separate ``replay``
package.

Environment variables read by this package: none of Blotter's (orchestration reads the settings
and passes them in). dlt reads its own (``DLT_*``, ``RUNTIME__*``, ``NORMALIZE__*``,
``DATA_WRITER__*``) and ``.dlt/`` files; see ``ingestion/pipeline.py``.
"""
