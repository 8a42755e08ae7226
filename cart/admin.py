"""Carts in the admin: read-only, to look into a cart a customer asks about."""

import uuid

from django.contrib import admin
from django.db.models import Count, Sum

from cart.models import Cart, CartLine
from shop.kernel.readonly_admin import ReadOnlyAdminMixin


class CartLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CartLine
    extra = 0
    fields = ("sku", "quantity", "created_at")
    readonly_fields = fields


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("token", "customer_id", "line_count", "item_count", "created_at", "updated_at")
    list_filter = (("customer_id", admin.EmptyFieldListFilter),)
    search_fields = ("lines__sku",)
    search_help_text = "A cart's token, a customer id or a SKU in the cart."
    readonly_fields = ("token", "customer_id", "created_at", "updated_at")
    inlines = (CartLineInline,)
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(line_count=Count("lines"), item_count=Sum("lines__quantity"))
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(customer_id=int(term)), False
        try:
            return queryset.filter(token=uuid.UUID(term)), False
        except ValueError:
            return super().get_search_results(request, queryset, search_term)

    @admin.display(description="lines", ordering="line_count")
    def line_count(self, cart):
        return cart.line_count

    @admin.display(description="items", ordering="item_count")
    def item_count(self, cart):
        return cart.item_count or 0
