"""The quality checks (pure: no database, no web): one example on its own, then the whole set
(duplicates, near duplicates, conflicts), and the catalogue of what they find."""
