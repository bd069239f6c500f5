from django.contrib import admin

from .models import AEFIDeadline, AEFIReport, Lot, Package, StockBalance, StockMove, SupplyItem


@admin.register(SupplyItem)
class SupplyItemAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "unit_label", "doses_per_package", "trace_prefix"]
    list_filter = ["kind"]


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["number", "item", "expires_on"]
    search_fields = ["number"]


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ["code", "lot", "doses"]
    search_fields = ["code"]
    raw_id_fields = ["lot"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is written by its services only; the admin shows it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = ["at", "holder", "lot", "kind", "quantity", "by"]
    list_filter = ["kind"]


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    list_display = ["holder", "lot", "on_hand"]


@admin.register(AEFIDeadline)
class AEFIDeadlineAdmin(admin.ModelAdmin):
    list_display = ["case", "report_hours", "investigate_hours"]


@admin.register(AEFIReport)
class AEFIReportAdmin(admin.ModelAdmin):
    list_display = ["resident", "severity", "discovered_at", "report_due_by", "status"]
    list_filter = ["status", "severity", "classification"]
    raw_id_fields = ["dose", "resident", "product", "site", "filed_by"]
