"""Logins and failed logins (Django's auth signals) go to the audit trail; the task queue's
signals tell it which task made a change (`core.process`)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from huey import signals as task_signals
from huey.contrib.djhuey import HUEY

from epidispatch.core import process

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


@HUEY.signal(task_signals.SIGNAL_EXECUTING)
def _task_executing(signal, task, *args, **kwargs):
    process.task_running(task.name)


@HUEY.signal(*_TASK_ENDED)
def _task_ended(signal, task, *args, **kwargs):
    process.task_ended()
