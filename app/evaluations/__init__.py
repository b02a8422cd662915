"""Evaluations: compare the original model with the tuned one on held-out test questions.

The rooms (``tests/test_layers.py`` keeps ``scoring`` and the judge's protocol pure):

* ``scoring/`` — measures of an answer against its reference (``metrics``: chrF, BLEU, ROUGE-L,
  exact match, length, ``json_format``), set-level figures with intervals (``aggregate``), win
  rates and the verdict sentence (``stats``), the answer/reference ``diff``.
* ``judge/`` — the AI judge: ``protocol`` (both answer orders, robust reply parsing, given a
  ``generate(prompt) -> str``), its ``prompts``, ``replies`` and ``rubric``, and ``phase`` (the
  judge step of a run).
* ``planning/`` — what a run will ask before it runs: the test items and candidates (``plan``),
  how a candidate is asked (``prompts``), calls, tokens and money (``estimate``), test questions
  the tuned model saw in training (``leakage``).
* ``running/`` — the worker side: ``runner`` (claim, answer, judge, summarise), bounded
  concurrency (``pool``), answers committed as they come (``recording``), stored ``summaries``.
* ``web/`` — HTTP only: pages, the compare screen's items (``results``), the form and its
  ``choices``, ``exports`` and the JSON API.
* Beside them: ``service`` (create, cancel, resume), ``votes`` (blind human votes), ``golden``
  (the golden set and the scorecard over time), ``fixes`` ("Fix this answer"), ``failures``,
  ``scores`` and ``texts`` (codes to words).
"""
