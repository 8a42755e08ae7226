"""
ISO 3166-1 alpha-2 country codes, from django-countries (kept current with the standard by its
maintainers, not by this shop): for shipping addresses and shipping rates.
"""

from django_countries import countries

#: Officially assigned ISO 3166-1 alpha-2 codes.
COUNTRY_CODES = frozenset(code for code, _ in countries)
#: A shipping rate's country for "every country without a rate of its own".
EVERY_OTHER_COUNTRY = "*"


def shipping_country_choices() -> list[tuple[str, str]]:
    """A shipping rate's countries: ``*`` first, then every country by name."""
    return [
        (EVERY_OTHER_COUNTRY, "* every other country"),
        *((code, f"{code} - {name}") for code, name in countries),
    ]
