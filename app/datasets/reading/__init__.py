"""Reading example files (pure: no database, no web): CSV/TSV, Excel and JSONL to example drafts,
with a finding for everything that could not be read."""
