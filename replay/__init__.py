"""Offline replay of a Socrata SODA API: a synthetic city, or a real portal export.

Not part of ingestion's dlt source: it is the other side of the HTTP wire (a stdlib HTTP server
speaking SODA), installed with Blotter because the demo is the embedded default
(``BLOTTER_SOURCE=demo`` starts it in-process) and because the tests and benchmarks use it.
It depends on ``ingestion.profiles`` only (to serve a file as a profile's dataset).

By default it serves Buffalo's Crime Incidents (d6g9-xbgu) on a synthetic city; with a CSV
export and a source profile it serves that file as the profile's dataset.
Entry points: :func:`replay.server.running_replay` (tests, in-process ingestion,
``from_file=``/``profile=`` for a file) and :class:`replay.server.ReplayServer`
(``blotter demo-api [--from-file PATH --profile NAME]``).

Modules: ``geo`` (static tables and the served schema), ``city`` (vectorised generator, seeded
per day), ``table`` (what is published on an as-of date), ``export`` (a CSV export as a
dataset), ``columns`` (filter / sort / render per column kind), ``soql`` (parser), ``query``
(one request), ``faults`` and ``record_faults``, ``server``.

The city: 35 neighbourhoods in 5 police and 9 council districts with very different activity
levels; ~48 incidents a day in 2015 declining 2.5% a year, ±22% yearly and ±5% weekly
seasonality, no level shifts. Records are published hours to 3 days after they occur; 15% get
one revision 1-21 days later (reclassification, or geography / coordinates filled in), which
moves ``:updated_at`` but not ``:created_at``. About 2% lack geography ('UNKNOWN' or omitted
keys) and 2.5% coordinates ('UNKNOWN' sentinel or omitted).

Environment variables read here: none.
"""
