"""
PostgreSQL full-text search: a trigger keeps ``search_vector`` current on every insert and on
every update of the searched columns (services, admin, bulk loads alike), and a GIN index serves
the ``@@`` match. Weights: name A, SKUs B, description C. Nothing happens on other databases.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION catalog_product_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(NEW.name, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(NEW.sku_text, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_product_search_vector_update
    BEFORE INSERT OR UPDATE OF name, sku_text, description ON catalog_product
    FOR EACH ROW EXECUTE FUNCTION catalog_product_search_vector();

UPDATE catalog_product SET name = name;

CREATE INDEX catalog_product_search_gin ON catalog_product USING gin (search_vector);
"""

BACKWARD = """
DROP INDEX IF EXISTS catalog_product_search_gin;
DROP TRIGGER IF EXISTS catalog_product_search_vector_update ON catalog_product;
DROP FUNCTION IF EXISTS catalog_product_search_vector();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
