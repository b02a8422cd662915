"""The AI judge: a pure protocol over any ``generate`` callable, its prompts and reply parsing,
and the judge phase of a run (which calls Gemini through the gateway)."""
