from django.contrib import admin

from . import services
from .models import OrgUnit


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "depth")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    ordering = ("path",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("path", "depth", "county_code")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return ("code", "kind", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if not change:
            services.unit_add(unit=obj)
            return
        if "parent" in form.changed_data:
            services.unit_move(unit=obj, new_parent=obj.parent)
        services.unit_update(unit=obj, name=obj.name)
