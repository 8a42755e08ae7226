"""Admin pages that show data but change nothing: for rows only services may write."""

from django.contrib import admin


class ReadOnlyAdminMixin:
    """Viewable, never added, changed or deleted in the admin (for ModelAdmins and inlines)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass
