"""The shop's shipping methods and their prices by country: data, edited in the admin afterwards."""

from decimal import Decimal

from django.db import migrations

METHODS = [
    # code, name, position, {country: amount}; "*" is every other country. Prices in EUR.
    ("standard", "Standard (3-5 days)", 0, {"DE": "4.90", "AT": "5.90", "CH": "9.90", "*": "12.90"}),
    ("express", "Express (1-2 days)", 1, {"DE": "9.90", "AT": "12.90", "*": "24.90"}),
    ("pickup", "Pick-up at the Berlin store", 2, {"DE": "0.00"}),
]


def create(apps, schema_editor):
    ShippingMethod = apps.get_model("checkout", "ShippingMethod")
    ShippingRate = apps.get_model("checkout", "ShippingRate")
    for code, name, position, prices in METHODS:
        method, _ = ShippingMethod.objects.get_or_create(
            code=code, defaults={"name": name, "position": position}
        )
        for country, amount in prices.items():
            ShippingRate.objects.get_or_create(
                method=method, country=country, currency="EUR", defaults={"amount": Decimal(amount)}
            )


def remove(apps, schema_editor):
    apps.get_model("checkout", "ShippingMethod").objects.filter(code__in=[m[0] for m in METHODS]).delete()


class Migration(migrations.Migration):
    dependencies = [("checkout", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
