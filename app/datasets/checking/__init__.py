"""The dataset-wide check in the database: its status (one worker at a time), the recheck task,
the finding index the report filters on, and the relations between duplicate or conflicting
rows."""
