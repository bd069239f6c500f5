from auditlog.middleware import AuditlogMiddleware

from .services import client_ip


class ChangeActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (who made the changes of this request), with the client
    address checked: a forged X-Forwarded-For that is not an address is not stored."""

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)
