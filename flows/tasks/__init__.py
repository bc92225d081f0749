"""Thin Prefect tasks around the packages' plain functions: resilience (retries, timeouts, tags), no logic."""
