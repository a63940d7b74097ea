"""Offline replay of Buffalo's Crime Incidents SODA API (d6g9-xbgu) on a synthetic city.

Entry points: :func:`ingestion.replay.server.running_replay` (tests, in-process ingestion) and
:func:`ingestion.replay.server.serve_forever` (``blotter demo-api``).
"""
