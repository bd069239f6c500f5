from auditlog.middleware import AuditlogMiddleware

from epidispatch.core import process

from .services import client_ip


class ChangeActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (who made the changes of this request), with the client
    address checked: a forged X-Forwarded-For that is not an address is not stored; and
    the request marked as running, so its changes are never taken for a command's."""

    def __call__(self, request):
        with process.request_running():
            return super().__call__(request)

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)
