"""Logins and failed logins (Django's auth signals) go to the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .services import audit_login, audit_login_failed, client_ip


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs):
    audit_login(user=user, ip_address=client_ip(request) if request else None)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    audit_login_failed(
        username=credentials.get("username", ""),
        ip_address=client_ip(request) if request else None,
    )
