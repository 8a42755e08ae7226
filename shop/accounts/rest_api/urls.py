from django.urls import path

from shop.accounts.rest_api import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
