"""The inventory learns the SKUs of the variants created before it kept a list of known SKUs."""

from django.db import migrations

from inventory import api as inventory_api


def register_existing_skus(apps, schema_editor):
    Variant = apps.get_model("catalog", "Variant")
    skus = Variant.objects.order_by("pk").values_list("sku", flat=True)
    chunk: list[str] = []
    for sku in skus.iterator(chunk_size=2000):
        chunk.append(sku)
        if len(chunk) == 2000:
            inventory_api.register_skus(skus=chunk)
            chunk = []
    if chunk:
        inventory_api.register_skus(skus=chunk)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_search_vector_postgres"),
        ("inventory", "0002_known_sku"),
    ]

    operations = [migrations.RunPython(register_existing_skus, migrations.RunPython.noop)]
