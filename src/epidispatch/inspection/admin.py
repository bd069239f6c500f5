"""The office's reference data in the admin: place categories, key places and inspection
teams. Checklists are published from the checklists page (each edit a new version), so
the admin shows them read-only."""

from django.contrib import admin

from .models import Checklist, ChecklistItem, KeyPlace, PlaceCategory, Team


@admin.register(PlaceCategory)
class PlaceCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "order"]
    list_editable = ["order"]


@admin.register(KeyPlace)
class KeyPlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "responsible_unit", "grid", "contact_name"]
    list_filter = ["category"]
    search_fields = ["name", "address", "responsible_unit__name", "responsible_unit__code"]
    autocomplete_fields = ["responsible_unit", "grid"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["members", "places"]
    autocomplete_fields = ["units"]


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    can_delete = False
    readonly_fields = ["position", "text"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    list_display = ["category", "version", "effective_from", "created_by"]
    list_filter = ["category"]
    readonly_fields = ["category", "version", "effective_from", "created_by", "created_at"]
    inlines = [ChecklistItemInline]

    def has_add_permission(self, request):
        return False
