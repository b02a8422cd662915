"""An upload's life: stored, inspected for the mapping step, confirmed, imported all or nothing
by the worker, and sent again by the sweeper when its task was lost."""
