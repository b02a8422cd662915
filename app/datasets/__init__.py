"""Datasets: files of examples come in, are checked row by row, fixed, and frozen as versions.

The rooms, from the file to the frozen version (``tests/test_layers.py`` keeps ``reading`` and
``quality`` free of database and web code):

* ``records`` — the typed values every room shares (``ExampleDraft``, ``Finding``, ``RowRef``).
* ``reading/`` — bytes of a CSV, TSV, Excel or JSONL file to example drafts, never raising on bad
  input (``files.inspect_file`` for the mapping step, ``files.read_file`` for the import).
* ``quality/`` — the checks, pure: one example on its own (``validation``, ``pii``, ``tokens``),
  the whole set (``checks.check_examples``: duplicates, near duplicates, conflicts), the
  catalogue of finding codes (``findings``, ``labels``) and ``tunedesk check FILE``
  (``command``).
* ``intake/`` — an upload's life: stored, inspected, confirmed, imported by the worker
  (``ingest``), swept when its task was lost; the sample datasets.
* ``checking/`` — the dataset-wide check in the database: its status and lock, the recheck task,
  the finding index the report filters on, and duplicate/conflict relations between rows.
* ``editing/`` — every change to an example (``examples`` is the one place content changes),
  the report's fixes, conflicts, redaction, bulk actions, and the change log.
* ``report/`` — what the report shows: its summary, its rows, the downloads and the JSON.
* ``web/`` — HTTP only: the dataset pages, uploads, row fixes, the JSON API.
* ``versions/`` — immutable dataset versions: freeze, compare, export, leakage checks.
"""
