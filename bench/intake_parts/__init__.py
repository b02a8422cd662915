"""Pieces of ``bench/intake.py``: the synthetic corpus, the timed runs and the scoring."""
