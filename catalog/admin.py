"""
The catalog's admin. Every save and delete calls the services, so that admin changes publish
their events and drop stale cache entries exactly like any other write.
"""

from django.contrib import admin
from django.db import transaction

from catalog import services
from catalog.models import Attribute, AttributeValue, Category, Price, Product, Variant


class ServiceAdminMixin:
    """Routes the admin's writes of the model and its inlines through ``services``."""

    #: model class -> (save service, keyword, delete service)
    service_map: dict = {}

    def _save(self, obj):
        save, keyword, _ = self.service_map[type(obj)]
        save(**{keyword: obj})

    def _delete(self, obj):
        _, keyword, delete = self.service_map[type(obj)]
        delete(**{keyword: obj})

    def save_model(self, request, obj, form, change):
        self._save(obj)

    def delete_model(self, request, obj):
        self._delete(obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._delete(obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            self._delete(obj)
        for obj in instances:
            self._save(obj)
        formset.save_m2m()


SERVICES = {
    Category: (services.category_save, "category", services.category_delete),
    Product: (services.product_save, "product", services.product_delete),
    Variant: (services.variant_save, "variant", services.variant_delete),
    Price: (services.price_save, "price", services.price_delete),
    Attribute: (services.attribute_save, "attribute", None),
    AttributeValue: (services.attribute_value_save, "value", services.attribute_value_delete),
}


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("sku", "name", "position", "is_active", "in_stock")
    readonly_fields = ("in_stock",)
    show_change_link = True


class AttributeValueInline(admin.TabularInline):
    model = AttributeValue
    extra = 0
    autocomplete_fields = ("attribute",)


class PriceInline(admin.TabularInline):
    model = Price
    extra = 1
    fields = ("currency", "amount", "updated_at")
    readonly_fields = ("updated_at",)


@admin.register(Category)
class CategoryAdmin(ServiceAdminMixin, admin.ModelAdmin):
    service_map = SERVICES
    list_display = ("name", "slug", "path", "position")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)


@admin.register(Product)
class ProductAdmin(ServiceAdminMixin, admin.ModelAdmin):
    service_map = SERVICES
    list_display = ("name", "slug", "category", "price_from", "in_stock", "is_active", "created_at")
    list_filter = ("is_active", "in_stock")
    list_select_related = ("category",)
    search_fields = ("name", "slug", "sku_text")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("category",)
    readonly_fields = ("price_from", "in_stock", "sku_text", "created_at", "updated_at")
    inlines = (VariantInline, AttributeValueInline)
    show_full_result_count = False


@admin.register(Variant)
class VariantAdmin(ServiceAdminMixin, admin.ModelAdmin):
    service_map = SERVICES
    list_display = ("sku", "name", "product", "is_active", "in_stock")
    list_select_related = ("product",)
    search_fields = ("sku", "name")
    autocomplete_fields = ("product",)
    readonly_fields = ("in_stock",)
    inlines = (PriceInline,)
    show_full_result_count = False


@admin.register(Attribute)
class AttributeAdmin(ServiceAdminMixin, admin.ModelAdmin):
    service_map = SERVICES
    list_display = ("code", "name", "kind", "unit")
    search_fields = ("code", "name")

    def has_delete_permission(self, request, obj=None):
        return False
