from django.urls import path

from checkout.rest_api import views

app_name = "checkout"

urlpatterns = [
    path("checkouts/", views.CheckoutCreateView.as_view(), name="checkout-create"),
    path("checkouts/<uuid:checkout_id>/", views.CheckoutDetailView.as_view(), name="checkout-detail"),
    path(
        "checkouts/<uuid:checkout_id>/shipping-methods/",
        views.ShippingMethodListView.as_view(),
        name="checkout-shipping-methods",
    ),
    path(
        "checkouts/<uuid:checkout_id>/complete/",
        views.CheckoutCompleteView.as_view(),
        name="checkout-complete",
    ),
    path("orders/", views.OrderListView.as_view(), name="order-list"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
]
