"""
The inventory's admin.

Warehouses are edited here, through ``services.warehouse_save`` (deactivating one tells the
catalog about every SKU it holds). Stock levels, the ledger and reservations are read-only:
every change of stock must lock its rows in the fixed order, write its ledger row and publish
``StockChanged``, which a form saving a row cannot do. Counts go through the staff endpoint
``PUT /api/v1/inventory/stock/{sku}/`` (or ``inventory.api.set_on_hand``), reservations through
checkout.
"""

from django.contrib import admin

from inventory import services
from inventory.models import KnownSku, Reservation, ReservationLine, StockLevel, StockMovement, Warehouse
from shop.kernel.readonly_admin import ReadOnlyAdmin


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "priority", "is_active")
    list_editable = ("priority", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")

    def save_model(self, request, obj, form, change):
        services.warehouse_save(warehouse=obj)

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger refers to it: deactivate instead


@admin.register(KnownSku)
class KnownSkuAdmin(ReadOnlyAdmin):
    list_display = ("sku", "created_at")
    search_fields = ("sku",)
    show_full_result_count = False


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("sku", "warehouse", "on_hand", "reserved")
    list_filter = ("warehouse",)
    list_select_related = ("warehouse",)
    search_fields = ("sku",)
    show_full_result_count = False


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = ("sku", "warehouse", "quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("reference", "expires_at", "created_at")
    search_fields = ("reference", "id")
    date_hierarchy = "expires_at"
    inlines = (ReservationLineInline,)
    show_full_result_count = False


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "sku", "warehouse", "on_hand_delta", "reserved_delta", "reference")
    list_filter = ("kind", "warehouse")
    list_select_related = ("warehouse",)
    search_fields = ("sku", "reference")
    show_full_result_count = False
