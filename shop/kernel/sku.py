"""
The one rule of a SKU, shared by every context that stores or checks one: 1-64 letters, digits,
dots, dashes or underscores, starting with a letter or digit. Anchored with ``\\Z`` (``$`` would let
a trailing newline through: ``"ABC\\n"``).
"""

from django.core.validators import RegexValidator

SKU_MAX_LENGTH = 64
_BODY = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
SKU_MESSAGE = "A SKU is 1-64 letters, digits, dots, dashes or underscores."
SKU_VALIDATOR = RegexValidator(rf"^{_BODY}\Z", SKU_MESSAGE)
#: The same rule as an OpenAPI (ECMA 262) pattern, for path parameters and schemas.
SKU_SCHEMA_PATTERN = rf"^{_BODY}$"


class UnknownSku(LookupError):
    """
    No product variant has this SKU: the catalog never made it (and so the inventory never
    registered it). One fact for every context; each answers it over HTTP in its own table.
    """

    def __init__(self, sku: str):
        super().__init__(f"The shop knows no SKU {sku!r}.")
        self.sku = sku


def is_sku(value: object) -> bool:
    """Whether ``value`` is a string that follows the SKU rule."""
    return isinstance(value, str) and SKU_VALIDATOR.regex.match(value) is not None
