"""
The demo catalog's generator for ``manage.py seed_demo``: products with variants, prices,
attribute values and descriptions in plain English, drawn from the tables of
``catalog.demo_data`` (the category tree, the attributes, the vocabulary).

Everything here is pure Python (no models, no database), so that the generator can be read and
tested on its own. A product's data depends only on the seed and the product's number: the same
seed always yields the same catalog, and ``--products 100`` is the first hundred of
``--products 1000``. Descriptions are built from a small built-in vocabulary by a seeded
``random.Random``, not by Faker, to keep the demo free of extra dependencies and stable across
library versions.
"""

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from math import ceil

from catalog.demo_data import (
    ATTRIBUTES,
    BENEFITS,
    COLOURS,
    ENDINGS,
    FEATURE_ADJECTIVES,
    OCCASIONS,
    PARTS,
    QUALITIES,
    RATES,
    ROOTS,
    Node,
    Option,
    Root,
    ascii_slug,
)
from shop.kernel.money import minor_units

ATTRIBUTES_BY_CODE = {spec.code: spec for spec in ATTRIBUTES}


# --- the category tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """
    A leaf category with its root, the unit a product is generated from, and the attributes its
    products may have: the node's, plus colour unless the variants come in colours.
    """

    node: Node
    root: Root
    slug: str = field(init=False)
    attribute_codes: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "slug", self.node.slug)
        codes = self.node.attributes
        if not any(axis is COLOURS for axis in self.node.axes):
            codes = (*codes, "colour")
        object.__setattr__(self, "attribute_codes", codes)


def category_nodes() -> Iterator[tuple[Node, Node | None, int]]:
    """Every category as ``(node, parent, position)``, parents before their children."""

    def walk(node: Node, parent: Node | None, position: int) -> Iterator[tuple[Node, Node | None, int]]:
        yield node, parent, position
        for index, child in enumerate(node.children):
            yield from walk(child, node, index)

    for index, root in enumerate(ROOTS):
        yield from walk(root.node, None, index)


def _leaves() -> tuple[Leaf, ...]:
    def walk(node: Node, root: Root) -> Iterator[Leaf]:
        if not node.children:
            yield Leaf(node, root)
        for child in node.children:
            yield from walk(child, root)

    return tuple(leaf for root in ROOTS for leaf in walk(root.node, root))


LEAVES = _leaves()


# --- prices --------------------------------------------------------------------------------------


def second_currency(shop_currency: str) -> str:
    """The currency some products are also priced in: US dollars, or euros in a dollar shop."""
    return "EUR" if shop_currency == "USD" else "USD"


def shelf_price(euros: float, currency: str, ending: int = 1) -> Decimal:
    """
    ``euros`` converted to ``currency`` and rounded the way shops price, ``ending`` cents below a
    whole amount (19.99, 144.95, 1299.49), or whole hundreds less 20 (2980) in a currency without
    minor units. Two decimal places at most, which every currency with minor units can hold.
    """
    amount = euros * RATES.get(currency, 1.0)
    if minor_units(currency) == 0:
        return _cents(max(100, ceil(amount / 100) * 100) * 100 - 2000)
    step = 1 if amount < 100 else 5 if amount < 1000 else 10
    return _cents(max(1, ceil(amount / step) * step) * 100 - ending)


@cache
def _cents(cents: int) -> Decimal:
    # Shelf prices repeat a lot; building each Decimal once keeps a 100,000-product seed fast.
    return Decimal(cents).scaleb(-2)


# --- descriptions --------------------------------------------------------------------------------


def _common_noun(noun: str) -> str:
    """``noun`` as it reads inside a sentence: "Dome Tent" -> "dome tent", "USB-C Cable" -> "USB-C cable"."""
    return " ".join(
        word if word[:2].isupper() or word[0].isdigit() else word.lower() for word in noun.split()
    )


def _description(rng: "_Random", name: str, noun: str, root: Root, line: str, material: str) -> str:
    pick = rng.pick
    quality = pick(QUALITIES)
    article = "an" if quality[0] in "aeiou" else "a"
    sentences = [f"The {name} is {article} {quality} {_common_noun(noun)} for {pick(root.uses)}."]
    for _ in range(rng.between(1, 2)):
        sentences.append(f"Its {pick(FEATURE_ADJECTIVES)} {pick(PARTS)} {pick(BENEFITS)}{pick(OCCASIONS)}.")
    sentences.append(f"Made from {material}, it is built to last and easy to look after.")
    if rng.random() < 0.5:
        sentences.append(
            f"It pairs well with the rest of the {line} range and is ideal for {pick(root.uses)}."
        )
    sentences.append(pick(root.care))
    return " ".join(sentences)


# --- products ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoVariant:
    """A variant with its prices, ``(currency, amount)``, the shop currency first."""

    sku: str
    name: str
    is_active: bool
    prices: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True, slots=True)
class DemoProduct:
    """
    A product as the seed writes it, with the read-model values the services would compute:
    ``price_from`` is the lowest price of an active variant in the shop currency (None if none
    is active) and ``sku_text`` the variants' SKUs in order.
    """

    number: int
    slug: str
    name: str
    description: str
    category_slug: str
    is_active: bool
    variants: tuple[DemoVariant, ...]
    attributes: tuple[tuple[str, object], ...]
    price_from: Decimal | None

    @property
    def sku_text(self) -> str:
        return " ".join(variant.sku for variant in self.variants)


class _Random(random.Random):
    """``random.Random`` with quicker picks: the seed draws a few million of them."""

    def pick(self, items):
        return items[int(self.random() * len(items))]

    def between(self, low: int, high: int) -> int:
        """An integer from ``low`` to ``high``, both included."""
        return low + int(self.random() * (high - low + 1))

    def indices(self, count: int, size: int) -> list[int]:
        """``count`` distinct indices below ``size``, sorted."""
        pool = list(range(size))
        for index in range(count):
            other = index + int(self.random() * (size - index))
            pool[index], pool[other] = pool[other], pool[index]
        return sorted(pool[:count])


def _variant_options(rng: _Random, axes: tuple[tuple[Option, ...], ...]) -> list[tuple[Option, ...]]:
    """One to five distinct option combinations (e.g. colour and size), in catalogue order."""
    wanted = rng.between(1, 5)
    if not axes:
        return [()]
    if len(axes) == 1:
        options = axes[0]
        return [(options[index],) for index in rng.indices(min(wanted, len(options)), len(options))]
    first, second = axes
    colours = rng.indices(1 if wanted <= 3 else 2, len(first))
    run = min(len(second), ceil(wanted / len(colours)))
    start = rng.between(0, len(second) - run)
    return [(first[c], second[s]) for c in colours for s in range(start, start + run)][:wanted]


def _attribute_value(rng: _Random, code: str, leaf: Leaf):
    spec = ATTRIBUTES_BY_CODE[code]
    if spec.kind == "boolean":
        return rng.random() < 0.5
    if spec.kind == "text":
        if code == "colour":
            return rng.pick(COLOURS)[0]
        return rng.pick(leaf.node.materials or leaf.root.materials)
    low, high = leaf.node.ranges.get(code, spec.default)
    if spec.kind == "integer":
        value = rng.between(int(low), int(high))
        return round(value, -1) if code in ("weight_g", "pieces") and value >= 100 else value
    return Decimal(round(low + (high - low) * rng.random(), 1)).quantize(Decimal("0.1"))


def product(seed: int, number: int, *, currency: str, rng: _Random | None = None) -> DemoProduct:
    """
    The demo product ``number`` of the catalog ``seed``, priced in ``currency`` (the shop's).
    ``rng`` is reseeded for the product; passing one saves building a generator per product.
    """
    rng = rng or _Random()
    rng.seed(f"seed_demo:{seed}:{number}")
    pick = rng.pick
    leaf = pick(LEAVES)
    node, root = leaf.node, leaf.root
    kinds = len(node.nouns)
    kind = int(rng.random() * kinds)
    noun = node.nouns[kind]
    line = pick(root.lines)
    name = f"{pick(root.adjectives)} {line} {noun}"
    if node.models and rng.random() < 0.8:
        name = f"{name} {pick(node.models)}"

    low, high = node.price
    base = low * (high / low) ** ((kind + rng.random()) / kinds)
    ending = pick(ENDINGS)
    other = second_currency(currency) if rng.random() < 0.3 else None
    variants = []
    for position, options in enumerate(_variant_options(rng, node.axes)):
        euros = base * (1.05 + 0.2 * rng.random()) if position and rng.random() < 0.3 else base
        prices = [(currency, shelf_price(euros, currency, ending))]
        if other:
            prices.append((other, shelf_price(euros, other, ending)))
        variants.append(
            DemoVariant(
                sku="-".join([node.code, f"{number:06d}", *(code for _, code in options)]),
                name=", ".join(label for label, _ in options) or "Standard",
                is_active=position == 0 or rng.random() > 0.05,
                prices=tuple(prices),
            )
        )
    price_from = min((v.prices[0][1] for v in variants if v.is_active), default=None)

    codes = leaf.attribute_codes
    chosen = rng.indices(rng.between(2, min(4, len(codes))), len(codes))
    attributes = tuple((codes[index], _attribute_value(rng, codes[index], leaf)) for index in chosen)
    material = next(
        (value for code, value in attributes if code == "material"),
        None,
    ) or pick(node.materials or root.materials)
    return DemoProduct(
        number=number,
        slug=f"{ascii_slug(name)}-{number}",
        name=name,
        description=_description(rng, name, noun, root, line, material),
        category_slug=leaf.slug,
        is_active=rng.random() > 0.01,
        variants=tuple(variants),
        attributes=attributes,
        price_from=price_from,
    )


def products(seed: int, numbers: Iterable[int], *, currency: str) -> Iterator[DemoProduct]:
    """The demo products with the given numbers (see ``product``)."""
    rng = _Random()
    for number in numbers:
        yield product(seed, number, currency=currency, rng=rng)
