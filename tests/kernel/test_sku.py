"""The one SKU rule (``shop.kernel.sku``), its edge cases, and every context that stores SKUs using it."""

import pytest
from django.core.exceptions import ValidationError

from inventory import api as inventory_api
from shop.kernel.sku import SKU_MAX_LENGTH, SKU_SCHEMA_PATTERN, SKU_VALIDATOR, is_sku
from tests.catalog.factories import VariantFactory

ACCEPTED = ["A", "abc-1", "ABC.def_9", "9" * SKU_MAX_LENGTH, "SPK-000392-NVY", "lower-case-too"]
REFUSED = ["", "ABC\n", "ABC\n\n", "\nABC", "-ABC", ".ABC", "_ABC", "A B", "A/B", "Ä", "A" * 65, None, 12]


@pytest.mark.parametrize("value", ACCEPTED)
def test_a_sku_is_1_to_64_letters_digits_dots_dashes_or_underscores(value):
    assert is_sku(value)
    SKU_VALIDATOR(value)


@pytest.mark.parametrize("value", REFUSED)
def test_anything_else_is_refused_a_trailing_newline_included(value):
    assert not is_sku(value)


def test_the_schema_pattern_is_the_same_rule_without_pythons_end_anchor():
    assert SKU_VALIDATOR.regex.pattern.replace(r"\Z", "$") == SKU_SCHEMA_PATTERN


@pytest.mark.django_db
def test_the_catalog_refuses_a_sku_with_a_trailing_newline_as_the_inventory_does():
    variant = VariantFactory.build(sku="ABC\n")

    with pytest.raises(ValidationError) as refused:
        variant.full_clean(exclude=["product"])
    assert "sku" in refused.value.message_dict
    with pytest.raises(ValueError, match="Not a SKU"):
        inventory_api.register_skus(skus=["ABC\n"])
