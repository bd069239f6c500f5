from auditlog.cid import set_cid
from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware

from epidispatch.core import process

from .services import client_ip

#: The `signal_duid` of a request's change context: `receivers._request_context`, connected
#: once, fills the trail entries from it (see `ChangeActorMiddleware`).
REQUEST_CONTEXT = ("epidispatch", "request")


class ChangeActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (who made the changes of this request), with the client
    address checked: a forged X-Forwarded-For that is not an address is not stored; and
    the request marked as running, so its changes are never taken for a command's.

    django-auditlog connects a `pre_save` receiver for its entries at the start of every
    request and disconnects it at the end; every connect and disconnect takes the signal's
    lock and empties its cache (each save of the request then looks its receivers up
    again), and with 16 threads a process has 16 receivers that each entry calls. Here the
    request's context (actor, remote address and port) is set the same way, and one
    receiver connected at startup (`audit.receivers`) fills the entries from it, as
    django-auditlog's would. The context ends with the request."""

    def __call__(self, request):
        with process.request_running():
            set_cid(request)
            context = self.get_extra_data(request)
            context["signal_duid"] = REQUEST_CONTEXT
            token = auditlog_value.set(context)
            try:
                return self.get_response(request)
            finally:
                auditlog_value.reset(token)

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)
