"""The WSGI entry point: gunicorn wsgi:app, or flask --app wsgi."""

from statements import create_app

app = create_app()
