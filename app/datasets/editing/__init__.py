"""Changing examples: the one editor every change goes through, the fixes the report offers
(edit, exclude, keep one, settle a conflict, redact, bulk), and the change log."""
