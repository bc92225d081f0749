"""The analyst dashboard: trend tables, postings behind a figure and the audit store, in the browser (Dash)."""
