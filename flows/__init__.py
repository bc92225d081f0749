"""Orchestration: Prefect flows, thin tasks and the ``labourwatch`` command line."""
