"""WSGI entry point for production servers (gunicorn epidispatch.wsgi).

The server refuses to start when the data key does not decrypt the stored data (a
restored database beside a new data folder), instead of answering with errors later.
"""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epidispatch.settings")
application = get_wsgi_application()

from epidispatch.registry.checks import data_key_error  # noqa: E402  (needs Django set up)

if message := data_key_error():
    raise ImproperlyConfigured(message)
