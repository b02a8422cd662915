"""Measures of answers (pure: no database, no web): per answer, per set, and the verdict."""
