from django.contrib import admin

from .models import BoosterRule, Schedule, ScheduleStep, VaccineProduct


@admin.register(VaccineProduct)
class VaccineProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "manufacturer", "platform", "cvx_code", "active")
    list_filter = ("platform", "active")
    search_fields = ("code", "name", "manufacturer")


class ScheduleStepInline(admin.TabularInline):
    model = ScheduleStep
    extra = 0


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("product", "effective_from", "series_doses", "source")
    list_filter = ("product",)
    inlines = [ScheduleStepInline]


@admin.register(BoosterRule)
class BoosterRuleAdmin(admin.ModelAdmin):
    list_display = (
        "booster_number",
        "effective_from",
        "min_age_years",
        "min_days_after_previous",
        "source",
    )
