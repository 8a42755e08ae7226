from django.urls import path

from inventory.rest_api import views

app_name = "inventory"

urlpatterns = [
    path("stock/<str:sku>/", views.StockView.as_view(), name="stock"),
]
