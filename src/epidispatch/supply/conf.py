"""Supply settings an office may change (in the environment's Django settings)."""

from django.conf import settings

#: A lot whose AEFI reports reach this many per 10,000 doses given is flagged for the CDC.
AEFI_ALERT_PER_10000 = getattr(settings, "EPIDISPATCH_AEFI_ALERT_PER_10000", 5)
#: Demand: how many days ahead the doses due are counted.
DEMAND_DAYS = getattr(settings, "EPIDISPATCH_DEMAND_DAYS", 7)
#: Demand: the days of past use the daily rate is taken over.
USAGE_DAYS = getattr(settings, "EPIDISPATCH_USAGE_DAYS", 14)
#: A lot expiring within this many days is pointed out to use first.
EXPIRY_WARNING_DAYS = getattr(settings, "EPIDISPATCH_EXPIRY_WARNING_DAYS", 30)
