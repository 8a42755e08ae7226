"""
Checkout's admin: shipping methods and rates are edited here (data, not code); orders are read
here and change status only through the services (the status machine and its events).
"""

from django.contrib import admin, messages
from django.db import transaction

from checkout import services
from checkout.errors import IllegalTransition
from checkout.models import Checkout, Order, OrderLine, ShippingMethod, ShippingRate


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    extra = 1


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "position")
    inlines = (ShippingRateInline,)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ("sku", "name", "quantity", "unit_price", "line_total")

    def has_add_permission(self, request, obj=None):
        return False


def _transition_action(status: str, label: str):
    @admin.action(description=label)
    def action(modeladmin, request, queryset):
        done = 0
        with transaction.atomic():
            for order in queryset:
                try:
                    if status == Order.Status.CANCELED:
                        services.order_cancel(order=order)
                    else:
                        services.order_transition(order=order, status=status)
                    done += 1
                except IllegalTransition as exc:
                    modeladmin.message_user(request, f"{order.number}: {exc}", messages.WARNING)
        modeladmin.message_user(request, f"{done} order(s) now {status}.")

    action.__name__ = f"mark_{status}"
    return action


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "status", "email", "total", "currency", "created_at", "erp_reference")
    list_filter = ("status",)
    search_fields = ("number", "email")
    inlines = (OrderLineInline,)
    actions = [
        _transition_action(Order.Status.SHIPPED, "Mark as shipped"),
        _transition_action(Order.Status.COMPLETED, "Mark as completed"),
        _transition_action(Order.Status.CANCELED, "Cancel (stock back, payment refunded)"),
    ]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Order._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "email", "expires_at", "order_number", "created_at")
    list_filter = ("status",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Checkout._meta.fields]

    def has_add_permission(self, request):
        return False
