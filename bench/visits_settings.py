"""Settings of the server bench/visits.py starts: the platform's own production settings,
with the URLs of bench/visits_urls.py (the platform's, plus the baseline view)."""

from epidispatch.settings import *  # noqa: F403

ROOT_URLCONF = "visits_urls"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Errors still reach stderr; the per-request 4xx warnings would drown them.
    "loggers": {"django.request": {"level": "ERROR"}},
}
