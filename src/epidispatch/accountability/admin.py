from django.contrib import admin

from .models import Accountability, Event


class EventInline(admin.TabularInline):
    model = Event
    extra = 0
    readonly_fields = ["at", "by", "state", "note"]
    can_delete = False


@admin.register(Accountability)
class AccountabilityAdmin(admin.ModelAdmin):
    list_display = ["created_at", "unit", "kind", "cause", "state", "decided_by"]
    list_filter = ["kind", "cause", "state"]
    search_fields = ["unit__name", "unit__code", "persons", "summary"]
    readonly_fields = ["cause", "cause_type", "cause_id", "streak", "created_at"]
    inlines = [EventInline]
