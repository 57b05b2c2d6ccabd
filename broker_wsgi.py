"""WSGI entry point of the integration broker as its own process: `gunicorn broker_wsgi:app`.

It serves only `/broker/...` (Google's callback and webhook) on the host of GOOGLE_REDIRECT_URI; run
the portal with BROKER_MODE=separate so it leaves those routes to this process.
"""
from app import create_app

app = create_app(broker_only=True)
