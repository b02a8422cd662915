"""Datasets: intake of example files and their quality checks.

The pure core (no database, no web), for the upload flow, the Celery task and the report to
build on:

* :mod:`~app.datasets.parsing` — ``inspect_file`` (the mapping step) and ``read_file``
  (ingestion) for CSV/TSV, Excel (.xlsx) and JSONL, from a path or a binary file object;
  they yield :class:`~app.datasets.records.ExampleDraft` and
  :class:`~app.datasets.records.Finding` values and never raise on bad input.
* :mod:`~app.datasets.mapping` — ``ColumnMapping`` (store it per dataset with ``to_dict``) and
  the guess from English/Japanese headers.
* :mod:`~app.datasets.checker` — ``check_examples`` over a whole dataset (all uploads): findings
  and statistics. :mod:`~app.datasets.findings` renders a finding's message and hint in the
  current language.
* :mod:`~app.datasets.dedup` — duplicates, near duplicates and conflicts, also between two sets
  (``find_cross_duplicates`` for train/test leakage); :mod:`~app.datasets.normalize` —
  comparison keys and ``key_hash`` for indexed database columns; :mod:`~app.datasets.pii` —
  personal data and ``redact``; :mod:`~app.datasets.tokens` — the offline token estimate.
* ``tunedesk check FILE`` (:mod:`~app.datasets.checker_cli`) runs it all on one file.

The app around it (database, web, worker):

* :mod:`~app.datasets.uploads` — a file stored (:mod:`~app.datasets.storage`) and inspected for
  the mapping step (:mod:`~app.datasets.inspection`), then confirmed or dropped;
  :mod:`~app.datasets.ingest` — the Celery task that imports it all or nothing, with progress;
  :mod:`~app.datasets.sweeper` — lost or interrupted work sent again.
* :mod:`~app.datasets.dataset_check` and :mod:`~app.datasets.checks` — the dataset-wide check
  after every change, one worker at a time; :mod:`~app.datasets.finding_index` — findings indexed
  for the report's filters and counts.
* :mod:`~app.datasets.report` and :mod:`~app.datasets.rows` — the report's summary and rows;
  :mod:`~app.datasets.fixes`, :mod:`~app.datasets.conflicts`, :mod:`~app.datasets.redaction`,
  :mod:`~app.datasets.bulk` — the fixes, every one recorded by :mod:`~app.datasets.changes`;
  :mod:`~app.datasets.downloads` and :mod:`~app.datasets.documents` — CSV, JSONL and the API's
  JSON; :mod:`~app.datasets.samples` — the sample datasets.
* Routers: :mod:`~app.datasets.router` (datasets, report, history, downloads),
  :mod:`~app.datasets.upload_router`, :mod:`~app.datasets.rows_router`, :mod:`~app.datasets.api`.
"""
