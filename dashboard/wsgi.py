"""WSGI entry point for a production server: ``gunicorn -b 127.0.0.1:8050 'dashboard.wsgi:server'``.

Reads the same settings as ``labourwatch dashboard`` (database, basic authentication); set
``LABOURWATCH_DASHBOARD_URL_PREFIX`` behind a reverse proxy that serves it under a sub-path.
"""

from __future__ import annotations

from dashboard.app import build_from_settings

app = build_from_settings()
server = app.server
