from django.urls import path

from cart.rest_api import views

app_name = "cart"

urlpatterns = [
    path("", views.CartCreateView.as_view(), name="cart-create"),
    path("<uuid:token>/", views.CartDetailView.as_view(), name="cart-detail"),
    path("<uuid:token>/lines/", views.CartLineAddView.as_view(), name="line-add"),
    path("<uuid:token>/lines/<int:line_id>/", views.CartLineView.as_view(), name="line-detail"),
    path("<uuid:token>/merge/", views.CartMergeView.as_view(), name="cart-merge"),
]
