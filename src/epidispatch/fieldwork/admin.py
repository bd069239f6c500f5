from django.contrib import admin

from .models import CheckpointRecord, FollowUp, Reminder, Visit


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["resident", "outcome", "worker", "visited_at"]
    list_filter = ["outcome"]
    raw_id_fields = ["resident", "grid", "worker"]
    readonly_fields = ["submission_id", "seen_visit_id", "status_before", "visited_at"]


@admin.register(CheckpointRecord)
class CheckpointRecordAdmin(admin.ModelAdmin):
    list_display = ["place", "seen_at", "id_number_masked", "phone_masked", "state"]
    list_filter = ["state"]
    raw_id_fields = ["unit", "resident", "closed_by", "recorded_by"]
    exclude = ["id_number_digest", "id_number_encrypted", "phone_digest", "phone_encrypted"]


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["resident", "due_by", "outcome", "done_at"]
    raw_id_fields = ["dose", "resident", "grid", "done_by"]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["resident", "dose_number", "due_from", "state", "attempts", "sent_at"]
    list_filter = ["state"]
    raw_id_fields = ["resident"]
