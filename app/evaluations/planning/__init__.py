"""What an evaluation will do before it runs: its items, candidates, prompts, cost and leaks."""
