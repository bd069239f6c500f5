"""Settings of the server bench/booking.py starts: the platform's production settings with
the URLs of bench/booking_urls.py (the platform's, plus the baseline view)."""

from epidispatch.settings import *  # noqa: F403

ROOT_URLCONF = "booking_urls"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Errors still reach stderr; the 190 "full" answers per round would drown them.
    "loggers": {"django.request": {"level": "ERROR"}},
}
