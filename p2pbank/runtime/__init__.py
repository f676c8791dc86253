"""The platform's own running state: when the worker last beat, when each scan last
finished. Read by `/readyz` and `flask status`; written by the scheduler's tasks."""
