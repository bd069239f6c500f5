from .models import AuditEntry


def audit_record(*, user, action: str, subject: str, unit_path: str, ip_address=None):
    return AuditEntry.objects.create(
        user=user, action=action, subject=subject, unit_path=unit_path, ip_address=ip_address
    )
