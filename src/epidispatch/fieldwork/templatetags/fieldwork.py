from django import template

from epidispatch.fieldwork.models import VisitOutcome

register = template.Library()


@register.filter
def outcome_label(value: str | None) -> str:
    """The label of a visit outcome stored as its value (annotated lists carry values)."""
    if not value:
        return ""
    try:
        return str(VisitOutcome(value).label)
    except ValueError:
        return value
