"""Running an evaluation in the worker: claim, answer with bounded concurrency, record every
answer at once, judge, and store the summaries."""
