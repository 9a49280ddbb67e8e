"""Executing runs: the run context, entrypoints, worker processes and executors."""
