from django.contrib import admin

from .models import (
    ActionItem,
    LeaderResponsibility,
    Meeting,
    MeetingSeries,
    ProgressPost,
    UnitReport,
    WorkingGroup,
)


@admin.register(WorkingGroup)
class WorkingGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "position"]
    filter_horizontal = ["members"]


@admin.register(LeaderResponsibility)
class LeaderResponsibilityAdmin(admin.ModelAdmin):
    list_display = ["leader_name", "leader_title", "town", "user"]
    search_fields = ["leader_name", "town__name"]


@admin.register(MeetingSeries)
class MeetingSeriesAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "kind"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["series", "number", "kind", "held_at", "chair"]
    list_filter = ["kind", "series"]
    readonly_fields = ["minutes_number", "created_by", "created_at"]


@admin.register(UnitReport)
class UnitReportAdmin(admin.ModelAdmin):
    list_display = ["meeting", "unit", "deadline", "submitted_at"]
    readonly_fields = ["submitted_by", "submitted_at"]


class ProgressInline(admin.TabularInline):
    model = ProgressPost
    extra = 0
    readonly_fields = ["note", "posted_by", "posted_at"]
    can_delete = False


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["meeting", "number", "owner_unit", "owner_group", "deadline", "state"]
    list_filter = ["state"]
    readonly_fields = [
        "owner_path",
        "issued_by",
        "issued_at",
        "closed_by",
        "closed_at",
        "escalated_at",
    ]
    inlines = [ProgressInline]
