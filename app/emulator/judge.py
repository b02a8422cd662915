"""The simulated AI judge: the emulator's base model recognises TuneDesk's judge prompts
(``app.evaluations.judge.prompts``: ``<<<QUESTION>>>``, ``<<<ANSWER A>>>``… blocks and a JSON
reply) and answers them as a judge would, deterministically, instead of generically.

* Pairwise: the answer more similar to the reference wins; when the two similarities are within
  ``TIE_MARGIN`` the verdict is a tie. The winner does not depend on the order of the answers.
* Rubric: facts from the answer's similarity to the reference, format from how close its length
  is to the reference's (and, for a JSON reference, whether the answer is JSON too), tone from
  writing in the reference's language.
* The reason is one short sentence in the question's language.
* A question containing ``REFUSAL_TRIGGER`` gets a refusal, so demos and tests can show how a
  judge that declines is handled.

Pure: no HTTP, no state.
"""

from __future__ import annotations

import json
import re

from app.emulator.answers import similarity
from app.emulator.tokens import is_japanese

TIE_MARGIN = 0.03
REFUSAL_TRIGGER = "[judge-refuses]"
_BLOCK = re.compile(r"<<<([A-Z ]+)>>>\n?(.*?)\n?<<<END \1>>>", re.DOTALL)


def blocks(prompt: str) -> dict[str, str]:
    return {name: text.strip() for name, text in _BLOCK.findall(prompt)}


def is_judge_prompt(prompt: str) -> bool:
    found = blocks(prompt)
    return (
        "QUESTION" in found
        and "REFERENCE ANSWER" in found
        and ("ANSWER" in found or ("ANSWER A" in found and "ANSWER B" in found))
    )


def _reason(japanese: bool, english: str, japanese_text: str) -> str:
    return japanese_text if japanese else english


def pairwise_reply(found: dict[str, str]) -> str:
    reference = found["REFERENCE ANSWER"]
    a = similarity(found["ANSWER A"], reference)
    b = similarity(found["ANSWER B"], reference)
    japanese = is_japanese(found["QUESTION"])
    if abs(a - b) <= TIE_MARGIN:
        winner = "tie"
        reason = _reason(
            japanese,
            "Both answers match the reference about equally well.",
            "どちらの回答も参照回答との一致度はほぼ同じです。",
        )
    else:
        winner = "A" if a > b else "B"
        reason = _reason(
            japanese,
            f"Answer {winner} agrees more closely with the facts of the reference.",
            f"回答{winner}の方が参照回答の内容により近いです。",
        )
    return json.dumps({"winner": winner, "reason": reason}, ensure_ascii=False)


def _score(value: float) -> int:
    return max(1, min(5, 1 + round(4 * value)))


def _format_score(answer: str, reference: str) -> int:
    if reference.lstrip().startswith(("{", "[")):
        try:
            json.loads(answer)
        except ValueError:
            return 1
        return 5
    ratio = len(answer) / max(1, len(reference))
    return 5 if 0.5 <= ratio <= 2 else 3 if 0.25 <= ratio <= 4 else 2


def rubric_reply(found: dict[str, str]) -> str:
    answer, reference = found["ANSWER"], found["REFERENCE ANSWER"]
    facts = _score(similarity(answer, reference))
    tone = 5 if is_japanese(answer) == is_japanese(reference) else 2
    japanese = is_japanese(found["QUESTION"])
    reason = _reason(
        japanese,
        f"Facts {facts}/5 against the reference; format and tone compared with it.",
        f"参照回答と比べた事実の正確さは {facts}/5 です。形式と口調も参照回答と比較しました。",
    )
    return json.dumps(
        {
            "facts": facts,
            "format": _format_score(answer, reference),
            "tone": tone,
            "reason": reason,
        },
        ensure_ascii=False,
    )


def judge_reply(prompt: str) -> str | None:
    """The judge's reply to a judge prompt; None when ``prompt`` is not one."""
    if not is_judge_prompt(prompt):
        return None
    found = blocks(prompt)
    if REFUSAL_TRIGGER in found["QUESTION"]:
        return "I can't help with evaluating this content."
    return pairwise_reply(found) if "ANSWER A" in found else rubric_reply(found)
