from django.contrib import admin

from .models import (
    AreaRule,
    ControlArea,
    ControlCase,
    ControlPolicy,
    KeyPerson,
    PlanItem,
    PolicyPhase,
    PositiveCase,
)


class PolicyPhaseInline(admin.TabularInline):
    model = PolicyPhase
    extra = 0


class AreaRuleInline(admin.TabularInline):
    model = AreaRule
    extra = 0


@admin.register(ControlPolicy)
class ControlPolicyAdmin(admin.ModelAdmin):
    """An administrator adds a version with its effective date; cases registered earlier
    keep the phases they copied."""

    list_display = ["name", "effective_from", "source"]
    inlines = [PolicyPhaseInline, AreaRuleInline]


@admin.register(KeyPerson)
class KeyPersonAdmin(admin.ModelAdmin):
    list_display = ["name", "id_number_masked", "grid", "resident"]
    raw_id_fields = ["resident", "grid"]
    exclude = ["id_number_digest", "id_number_encrypted", "phone_digest", "phone_encrypted"]


@admin.register(ControlCase)
class ControlCaseAdmin(admin.ModelAdmin):
    list_display = ["person", "category", "reference_date", "policy", "ends_on", "released_on"]
    list_filter = ["category", "policy"]
    raw_id_fields = ["person", "grid", "positive", "released_by"]
    readonly_fields = ["policy", "plan"]


@admin.register(PositiveCase)
class PositiveCaseAdmin(admin.ModelAdmin):
    list_display = ["person", "found_on", "grid"]
    raw_id_fields = ["person", "grid", "reported_by"]


@admin.register(ControlArea)
class ControlAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "level", "policy", "started_on", "last_case_on", "ended_on"]
    raw_id_fields = ["unit"]
    exclude = ["county_code"]

    def save_model(self, request, obj, form, change):
        obj.county_code = obj.unit.county_code
        super().save_model(request, obj, form, change)


@admin.register(PlanItem)
class PlanItemAdmin(admin.ModelAdmin):
    list_display = ["unit", "item", "ready", "checked_on"]
    raw_id_fields = ["unit", "checked_by"]
