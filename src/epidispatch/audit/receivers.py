"""Logins and failed logins (Django's auth signals) go to the audit trail; the task queue's
signals tell it which task made a change (`core.process`); a request's changes get its actor and
address (`ChangeActorMiddleware`)."""

from auditlog.context import _set_extra_data
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import pre_save
from django.dispatch import receiver
from huey import signals as task_signals
from huey.contrib.djhuey import HUEY

from epidispatch.core import process

from .middleware import REQUEST_CONTEXT
from .models import Change
from .services import audit_login, audit_login_failed, client_ip

#: The signals after which a task no longer runs in its thread.
_TASK_ENDED = (
    task_signals.SIGNAL_COMPLETE,
    task_signals.SIGNAL_ERROR,
    task_signals.SIGNAL_CANCELED,
    task_signals.SIGNAL_INTERRUPTED,
    task_signals.SIGNAL_LOCKED,
    task_signals.SIGNAL_RATE_LIMITED,
)


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs):
    audit_login(user=user, ip_address=client_ip(request) if request else None)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    audit_login_failed(
        username=credentials.get("username", ""),
        ip_address=client_ip(request) if request else None,
    )


@receiver(pre_save, sender=Change, dispatch_uid="audit_change_request_context")
def _request_context(sender, instance, **kwargs):
    """A trail entry made during a request gets its actor, remote address and port, by
    django-auditlog's own receiver function, from the context `ChangeActorMiddleware` set
    (an `auditlog.context.set_actor` block keeps its own receiver and is left to it)."""
    _set_extra_data(sender, instance, signal_duid=REQUEST_CONTEXT)


@HUEY.signal(task_signals.SIGNAL_EXECUTING)
def _task_executing(signal, task, *args, **kwargs):
    process.task_running(task.name)


@HUEY.signal(*_TASK_ENDED)
def _task_ended(signal, task, *args, **kwargs):
    process.task_ended()
