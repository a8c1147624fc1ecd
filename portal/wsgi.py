"""The portal as a WSGI application, for hypercorn (`hypercorn portal.wsgi:app`)."""

from portal.app import create_app

app = create_app()
