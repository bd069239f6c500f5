from django.contrib import admin

from .models import MissedSample, ScreeningRound, Tube


@admin.register(ScreeningRound)
class ScreeningRoundAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "day", "pool_size", "target_size"]
    raw_id_fields = ["unit", "created_by"]
    readonly_fields = ["target_size", "created_at"]


@admin.register(Tube)
class TubeAdmin(admin.ModelAdmin):
    list_display = ["barcode", "round", "members", "capacity", "result", "reported_at"]
    list_filter = ["result"]
    search_fields = ["barcode"]
    raw_id_fields = ["round", "reported_by"]


@admin.register(MissedSample)
class MissedSampleAdmin(admin.ModelAdmin):
    list_display = ["round", "resident", "reason", "recorded_at"]
    raw_id_fields = ["round", "resident", "recorded_by"]
