"""Evaluations: compare the original model with the tuned one on held-out test questions.

Pure modules (no database, no web), the building blocks of evaluation runs:

* ``normalize`` – comparison keys and tokenizers that treat Japanese as characters;
* ``metrics`` – ``score_item(reference, output)``: exact match, chrF, BLEU, ROUGE-L, length ratio
  and the JSON check (``jsoncheck``) for one answer;
* ``aggregate`` – ``aggregate(items)``: set-level figures with bootstrap 95 % intervals;
* ``judge`` / ``judge_rubric`` – the AI judge protocol (both answer orders, robust reply parsing),
  given a ``generate(prompt) -> str`` callable;
* ``stats`` – win rates with Wilson intervals, judge–human agreement, ``verdict_sentence``;
* ``diff`` – answer vs reference as (op, text) segments for highlighting.
"""
