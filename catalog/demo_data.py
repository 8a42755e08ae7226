"""
The demo catalog's data for ``catalog.demo``: the variant axes, the attributes, the category tree
with the words its products are named and described with, the rough exchange rates and the
vocabulary of descriptions. Plain literals (and the few frozen dataclasses that give them their
shape); the generator that draws products from them is ``catalog.demo``. Editing a table here
changes the demo catalog that every seed yields.
"""

import re
from dataclasses import dataclass, field

_NOT_SLUG = re.compile(r"[^a-z0-9\s-]")
_DASHES = re.compile(r"[-\s]+")


def ascii_slug(name: str) -> str:
    """Django's ``slugify`` for the ASCII names of the demo, at a fraction of its cost."""
    return _DASHES.sub("-", _NOT_SLUG.sub("", name.lower())).strip("-_")


# --- variant axes: (label, SKU code) ---------------------------------------------------------

Option = tuple[str, str]

COLOURS: tuple[Option, ...] = (
    ("Black", "BLK"),
    ("Charcoal", "CHR"),
    ("Navy", "NVY"),
    ("Red", "RED"),
    ("Forest Green", "GRN"),
    ("Sand", "SND"),
    ("Orange", "ORG"),
    ("Sky Blue", "BLU"),
    ("White", "WHT"),
    ("Olive", "OLV"),
    ("Burgundy", "BRG"),
    ("Yellow", "YEL"),
)
SIZES: tuple[Option, ...] = tuple((size, size) for size in ("XS", "S", "M", "L", "XL", "XXL"))
SOCK_SIZES: tuple[Option, ...] = (("35-38", "S"), ("39-42", "M"), ("43-46", "L"))
SHOE_SIZES: tuple[Option, ...] = tuple((f"EU {size}", str(size)) for size in range(37, 47))
HELMET_SIZES: tuple[Option, ...] = (("S/M", "SM"), ("M/L", "ML"), ("L/XL", "LXL"))
BAG_LENGTHS: tuple[Option, ...] = (("Regular", "REG"), ("Long", "LNG"), ("Wide", "WDE"))
ROPE_LENGTHS: tuple[Option, ...] = tuple((f"{metres} m", f"{metres}M") for metres in (30, 40, 50, 60, 70, 80))
DIAMETERS: tuple[Option, ...] = tuple((f"{cm} cm", f"{cm}CM") for cm in (16, 20, 24, 28, 32))
MAT_THICKNESS: tuple[Option, ...] = (("4 mm", "4MM"), ("6 mm", "6MM"), ("8 mm", "8MM"))
PLANTER_SIZES: tuple[Option, ...] = (("Small", "S"), ("Medium", "M"), ("Large", "L"), ("Extra Large", "XL"))
LANGUAGES: tuple[Option, ...] = (("English", "EN"), ("German", "DE"), ("French", "FR"), ("Spanish", "ES"))
RULINGS: tuple[Option, ...] = (("Lined", "LIN"), ("Dotted", "DOT"), ("Plain", "PLN"), ("Squared", "SQR"))


# --- attributes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeSpec:
    """An attribute of the demo catalog; ``default`` is the range of a numeric value."""

    code: str
    name: str
    kind: str
    unit: str = ""
    default: tuple[float, float] = (0, 0)


ATTRIBUTES: tuple[AttributeSpec, ...] = (
    AttributeSpec("colour", "Colour", "text"),
    AttributeSpec("material", "Material", "text"),
    AttributeSpec("weight_g", "Weight", "integer", "g", (50, 3000)),
    AttributeSpec("length_cm", "Length", "decimal", "cm", (5, 200)),
    AttributeSpec("capacity_l", "Capacity", "decimal", "l", (0.2, 60)),
    AttributeSpec("waterproof", "Waterproof", "boolean"),
    AttributeSpec("recycled", "Made from recycled materials", "boolean"),
    AttributeSpec("power_w", "Power", "integer", "W", (5, 2000)),
    AttributeSpec("battery_h", "Battery life", "integer", "h", (4, 60)),
    AttributeSpec("warranty_years", "Warranty", "integer", "years", (1, 5)),
    AttributeSpec("min_age", "Minimum age", "integer", "years", (3, 14)),
    AttributeSpec("pieces", "Pieces", "integer", "", (20, 2000)),
    AttributeSpec("pages", "Pages", "integer", "", (96, 256)),
)


# --- the category tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """
    A category. A node without children is a leaf that products are filed under: it carries the
    SKU prefix (``code``), the product nouns from the cheapest to the dearest (each takes its
    slice of the price range, so that a teapot costs less than an espresso machine), optional
    model suffixes ("2P"), the price range in euros, the variant axes (zero, one or two option
    lists), the attributes that fit its products and, where the attribute default does not,
    their value ranges and materials.
    """

    name: str
    children: tuple["Node", ...] = ()
    code: str = ""
    nouns: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    price: tuple[int, int] = (10, 100)
    axes: tuple[tuple[Option, ...], ...] = ()
    attributes: tuple[str, ...] = ()
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    materials: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        return ascii_slug(self.name)


@dataclass(frozen=True)
class Root:
    """A root category with the words its product names are made of and its descriptions' words."""

    node: Node
    adjectives: tuple[str, ...]
    lines: tuple[str, ...]
    materials: tuple[str, ...]
    uses: tuple[str, ...]
    care: tuple[str, ...]


ROOTS: tuple[Root, ...] = (
    Root(
        Node(
            "Outdoor",
            (
                Node(
                    "Camping",
                    (
                        Node(
                            "Tents",
                            code="TEN",
                            nouns=("Tent", "Dome Tent", "Tunnel Tent"),
                            models=("1P", "2P", "3P", "4P"),
                            price=(89, 649),
                            axes=(COLOURS,),
                            attributes=("material", "weight_g", "length_cm", "waterproof", "warranty_years"),
                            ranges={"weight_g": (900, 5200), "length_cm": (200, 260)},
                            materials=("ripstop nylon", "polyester", "silnylon", "polycotton"),
                        ),
                        Node(
                            "Sleeping Bags",
                            code="SLB",
                            nouns=("Sleeping Bag", "Mummy Bag", "Down Bag"),
                            models=("Lite", "Pro", "0", "-5"),
                            price=(59, 399),
                            axes=(BAG_LENGTHS,),
                            attributes=("material", "weight_g", "length_cm", "recycled", "warranty_years"),
                            ranges={"weight_g": (600, 2200), "length_cm": (185, 220)},
                            materials=("duck down", "goose down", "synthetic fill", "recycled polyester"),
                        ),
                        Node(
                            "Camp Kitchen",
                            code="CKT",
                            nouns=("Spork Set", "Camp Mug", "Kettle", "Cook Set", "Camping Stove"),
                            price=(9, 149),
                            axes=(COLOURS,),
                            attributes=("material", "weight_g", "capacity_l", "warranty_years"),
                            ranges={"weight_g": (40, 900), "capacity_l": (0.3, 2.5)},
                            materials=("titanium", "hard-anodised aluminium", "stainless steel"),
                        ),
                    ),
                ),
                Node(
                    "Backpacks",
                    code="BPK",
                    nouns=("Daypack", "Backpack", "Rucksack"),
                    models=("20", "28", "35", "45", "65"),
                    price=(39, 299),
                    axes=(COLOURS,),
                    attributes=("material", "weight_g", "capacity_l", "waterproof", "recycled"),
                    ranges={"weight_g": (400, 2400), "capacity_l": (18, 70)},
                ),
                Node(
                    "Hiking Footwear",
                    code="HKF",
                    nouns=("Trail Shoe", "Approach Shoe", "Hiking Boot"),
                    models=("Mid", "Low", "GTX"),
                    price=(79, 259),
                    axes=(COLOURS, SHOE_SIZES),
                    attributes=("material", "weight_g", "waterproof", "recycled"),
                    ranges={"weight_g": (650, 1500)},
                    materials=("nubuck leather", "suede", "synthetic mesh"),
                ),
                Node(
                    "Climbing",
                    (
                        Node(
                            "Ropes",
                            code="ROP",
                            nouns=("Static Rope", "Single Rope", "Dynamic Rope"),
                            models=("9.5", "9.8", "10.2"),
                            price=(99, 329),
                            axes=(ROPE_LENGTHS,),
                            attributes=("material", "weight_g", "waterproof"),
                            ranges={"weight_g": (1800, 5600)},
                            materials=("nylon", "polyamide"),
                        ),
                        Node(
                            "Harnesses",
                            code="HAR",
                            nouns=("Sport Harness", "Climbing Harness", "Alpine Harness"),
                            price=(49, 149),
                            axes=(SIZES,),
                            attributes=("material", "weight_g", "warranty_years"),
                            ranges={"weight_g": (250, 520)},
                            materials=("polyester webbing", "nylon webbing"),
                        ),
                    ),
                ),
                Node(
                    "Headlamps & Lanterns",
                    code="HDL",
                    nouns=("Torch", "Headlamp", "Lantern"),
                    models=("200", "400", "800"),
                    price=(19, 129),
                    axes=(COLOURS,),
                    attributes=("weight_g", "battery_h", "waterproof", "warranty_years"),
                    ranges={"weight_g": (60, 400), "battery_h": (5, 120)},
                ),
            ),
        ),
        adjectives=(
            "Alpine",
            "Summit",
            "Glacier",
            "Timberline",
            "Northwind",
            "Canyon",
            "Highland",
            "Basecamp",
        ),
        lines=("Trail", "Ridge", "Peak", "Trek", "Pass", "Crest", "Scout", "Venture"),
        materials=("ripstop nylon", "recycled polyester", "aluminium", "Cordura"),
        uses=(
            "long days on the trail",
            "weekend trips and longer expeditions",
            "wet and windy conditions",
            "fast and light hiking",
            "camping with the family",
        ),
        care=(
            "Dry it fully before storing it.",
            "Rinse it with fresh water after use.",
            "Store it loosely in a cool, dry place.",
        ),
    ),
    Root(
        Node(
            "Clothing",
            (
                Node(
                    "Jackets",
                    code="JKT",
                    nouns=("Insulated Vest", "Softshell Jacket", "Rain Jacket", "Down Jacket"),
                    price=(79, 399),
                    axes=(COLOURS, SIZES),
                    attributes=("material", "weight_g", "waterproof", "recycled"),
                    ranges={"weight_g": (180, 900)},
                    materials=("recycled nylon", "Gore-Tex", "softshell", "goose down"),
                ),
                Node(
                    "Shirts",
                    code="SHT",
                    nouns=("T-Shirt", "Polo Shirt", "Oxford Shirt", "Flannel Shirt", "Linen Shirt"),
                    price=(19, 89),
                    axes=(COLOURS, SIZES),
                    attributes=("material", "weight_g", "recycled"),
                    ranges={"weight_g": (120, 400)},
                    materials=("organic cotton", "linen", "merino wool", "cotton flannel"),
                ),
                Node(
                    "Trousers",
                    code="TRS",
                    nouns=("Chinos", "Jeans", "Cargo Trousers", "Hiking Trousers"),
                    price=(39, 149),
                    axes=(COLOURS, SIZES),
                    attributes=("material", "weight_g", "waterproof", "recycled"),
                    ranges={"weight_g": (250, 800)},
                    materials=("cotton twill", "denim", "stretch nylon"),
                ),
                Node(
                    "Knitwear",
                    code="KNT",
                    nouns=("Fleece", "Jumper", "Roll Neck", "Cardigan"),
                    price=(39, 179),
                    axes=(COLOURS, SIZES),
                    attributes=("material", "weight_g", "recycled"),
                    ranges={"weight_g": (250, 750)},
                    materials=("merino wool", "lambswool", "cashmere", "recycled fleece"),
                ),
                Node(
                    "Socks",
                    code="SCK",
                    nouns=("Running Socks", "Hiking Socks", "Wool Socks"),
                    price=(9, 29),
                    axes=(COLOURS, SOCK_SIZES),
                    attributes=("material", "weight_g", "recycled"),
                    ranges={"weight_g": (40, 120)},
                    materials=("merino wool", "cotton blend", "bamboo viscose"),
                ),
            ),
        ),
        adjectives=("Harbour", "Fjord", "Meadow", "Northern", "Everyday", "Classic", "Woodland", "Riverside"),
        lines=("Knit", "Shell", "Loft", "Field", "Weave", "Drift", "Layer", "Breeze"),
        materials=("organic cotton", "merino wool", "recycled polyester"),
        uses=(
            "everyday wear",
            "the commute and the weekend",
            "cool mornings",
            "travel",
            "layering in winter",
        ),
        care=(
            "Machine washable at 30 degrees.",
            "Wash it inside out with similar colours.",
            "Dry it flat to keep its shape.",
        ),
    ),
    Root(
        Node(
            "Home & Kitchen",
            (
                Node(
                    "Cookware",
                    code="CKW",
                    nouns=("Frying Pan", "Saucepan", "Wok", "Stockpot", "Casserole Dish"),
                    price=(24, 229),
                    axes=(DIAMETERS,),
                    attributes=("material", "weight_g", "capacity_l", "warranty_years"),
                    ranges={"weight_g": (700, 5200), "capacity_l": (1, 9)},
                    materials=("cast iron", "stainless steel", "carbon steel", "enamelled cast iron"),
                ),
                Node(
                    "Knives",
                    code="KNV",
                    nouns=("Paring Knife", "Bread Knife", "Santoku Knife", "Chef's Knife", "Knife Block Set"),
                    price=(19, 249),
                    attributes=("material", "length_cm", "weight_g", "warranty_years"),
                    ranges={"length_cm": (9, 26), "weight_g": (60, 400)},
                    materials=("Damascus steel", "high-carbon steel", "stainless steel"),
                ),
                Node(
                    "Coffee & Tea",
                    code="COF",
                    nouns=(
                        "Pour-Over Dripper",
                        "Teapot",
                        "French Press",
                        "Coffee Grinder",
                        "Espresso Machine",
                    ),
                    price=(14, 699),
                    axes=(COLOURS,),
                    attributes=("material", "capacity_l", "power_w", "warranty_years"),
                    ranges={"capacity_l": (0.3, 2), "power_w": (150, 1600)},
                    materials=("borosilicate glass", "stainless steel", "ceramic", "porcelain"),
                ),
                Node(
                    "Tableware",
                    code="TBW",
                    nouns=("Mug Set", "Glass Set", "Bowl Set", "Serving Platter", "Dinner Plate Set"),
                    price=(12, 129),
                    axes=(COLOURS,),
                    attributes=("material", "pieces", "weight_g"),
                    ranges={"pieces": (2, 16), "weight_g": (300, 4000)},
                    materials=("stoneware", "porcelain", "bone china", "recycled glass"),
                ),
                Node(
                    "Storage",
                    code="STO",
                    nouns=("Storage Jar", "Lunch Box", "Spice Rack", "Bread Bin"),
                    price=(8, 69),
                    axes=(COLOURS,),
                    attributes=("material", "capacity_l", "recycled"),
                    ranges={"capacity_l": (0.4, 12)},
                    materials=("glass", "bamboo", "enamelled steel", "recycled plastic"),
                ),
            ),
        ),
        adjectives=("Linden", "Copper", "Oakwood", "Hearthstone", "Juniper", "Willow", "Maple", "Birch"),
        lines=("Classic", "Studio", "Craft", "Essential", "Signature", "Atelier", "Pantry", "Table"),
        materials=("stainless steel", "stoneware", "oak", "glass"),
        uses=("busy weeknight cooking", "slow weekend breakfasts", "small kitchens", "entertaining guests"),
        care=(
            "Dishwasher safe.",
            "Wash it by hand with warm soapy water.",
            "Dry it straight after washing.",
        ),
    ),
    Root(
        Node(
            "Electronics",
            (
                Node(
                    "Headphones",
                    code="HPH",
                    nouns=(
                        "Earbuds",
                        "Wireless Headphones",
                        "Studio Headphones",
                        "Noise-Cancelling Headphones",
                    ),
                    price=(29, 399),
                    axes=(COLOURS,),
                    attributes=("weight_g", "battery_h", "waterproof", "warranty_years"),
                    ranges={"weight_g": (8, 350)},
                ),
                Node(
                    "Speakers",
                    code="SPK",
                    nouns=("Bluetooth Speaker", "Smart Speaker", "Bookshelf Speakers", "Soundbar"),
                    price=(39, 799),
                    axes=(COLOURS,),
                    attributes=("power_w", "weight_g", "battery_h", "waterproof"),
                    ranges={"power_w": (5, 300), "weight_g": (300, 9000)},
                ),
                Node(
                    "Chargers & Cables",
                    code="CHG",
                    nouns=("USB-C Cable", "Car Charger", "Wall Charger", "Wireless Charger", "Power Bank"),
                    price=(9, 89),
                    axes=(COLOURS,),
                    attributes=("power_w", "length_cm", "weight_g", "warranty_years"),
                    ranges={"power_w": (10, 140), "length_cm": (30, 300), "weight_g": (20, 450)},
                ),
                Node(
                    "Smart Home",
                    (
                        Node(
                            "Smart Lighting",
                            code="LGT",
                            nouns=("Smart Bulb", "Light Strip", "Table Lamp", "Ceiling Light"),
                            price=(14, 199),
                            axes=(COLOURS,),
                            attributes=("power_w", "length_cm", "warranty_years"),
                            ranges={"power_w": (5, 60), "length_cm": (10, 500)},
                        ),
                        Node(
                            "Sensors",
                            code="SNS",
                            nouns=(
                                "Door Sensor",
                                "Leak Sensor",
                                "Motion Sensor",
                                "Smoke Alarm",
                                "Thermostat",
                            ),
                            price=(19, 249),
                            attributes=("battery_h", "weight_g", "waterproof", "warranty_years"),
                            ranges={"battery_h": (2000, 17000), "weight_g": (20, 300)},
                        ),
                    ),
                ),
                Node(
                    "Cameras",
                    code="CAM",
                    nouns=("Webcam", "Dash Cam", "Action Camera", "Mirrorless Camera"),
                    price=(49, 1899),
                    axes=(COLOURS,),
                    attributes=("weight_g", "battery_h", "waterproof", "warranty_years"),
                    ranges={"weight_g": (60, 900), "battery_h": (1, 8)},
                ),
            ),
        ),
        adjectives=("Pulse", "Nova", "Echo", "Aero", "Volt", "Lumen", "Sonic", "Quantum"),
        lines=("One", "Air", "Max", "Pro", "Mini", "Go", "Core", "Flex"),
        materials=("aluminium", "recycled plastic", "glass"),
        uses=("music on the move", "working from home", "the living room", "travel", "video calls"),
        care=(
            "Keep the firmware up to date.",
            "Charge it fully before first use.",
            "Clean it with a dry, soft cloth.",
        ),
    ),
    Root(
        Node(
            "Sports",
            (
                Node(
                    "Cycling",
                    (
                        Node(
                            "Bike Lights",
                            code="BLT",
                            nouns=("Rear Light", "Front Light", "Light Set"),
                            models=("100", "400", "1200"),
                            price=(14, 129),
                            attributes=("battery_h", "weight_g", "waterproof", "warranty_years"),
                            ranges={"battery_h": (2, 40), "weight_g": (20, 250)},
                        ),
                        Node(
                            "Helmets",
                            code="HLM",
                            nouns=("Commuter Helmet", "Mountain Bike Helmet", "Road Helmet"),
                            price=(39, 249),
                            axes=(COLOURS, HELMET_SIZES),
                            attributes=("weight_g", "material", "warranty_years"),
                            ranges={"weight_g": (220, 480)},
                            materials=("in-mould polycarbonate", "EPS foam"),
                        ),
                        Node(
                            "Bike Bags",
                            code="BBG",
                            nouns=("Saddle Bag", "Frame Bag", "Handlebar Bag", "Pannier"),
                            price=(19, 149),
                            axes=(COLOURS,),
                            attributes=("capacity_l", "waterproof", "weight_g", "material"),
                            ranges={"capacity_l": (0.5, 25), "weight_g": (90, 1100)},
                        ),
                    ),
                ),
                Node(
                    "Running",
                    code="RUN",
                    nouns=("Running Shoe", "Trail Running Shoe", "Racing Flat"),
                    price=(49, 219),
                    axes=(COLOURS, SHOE_SIZES),
                    attributes=("weight_g", "material", "waterproof", "recycled"),
                    ranges={"weight_g": (180, 340)},
                    materials=("engineered mesh", "knit upper", "recycled mesh"),
                ),
                Node(
                    "Swimming",
                    code="SWM",
                    nouns=("Swim Cap", "Swim Goggles", "Jammers", "Swimsuit"),
                    price=(9, 119),
                    axes=(COLOURS,),
                    attributes=("material", "weight_g", "recycled"),
                    ranges={"weight_g": (20, 250)},
                    materials=("silicone", "chlorine-resistant polyester", "recycled nylon"),
                ),
                Node(
                    "Fitness",
                    code="FIT",
                    nouns=("Jump Rope", "Resistance Band Set", "Foam Roller", "Kettlebell", "Dumbbell Set"),
                    price=(9, 249),
                    attributes=("weight_g", "material", "length_cm"),
                    ranges={"weight_g": (200, 24000), "length_cm": (30, 300)},
                    materials=("cast iron", "natural rubber", "EVA foam", "steel"),
                ),
                Node(
                    "Yoga",
                    code="YOG",
                    nouns=("Yoga Strap", "Yoga Block", "Meditation Cushion", "Yoga Mat"),
                    price=(12, 119),
                    axes=(MAT_THICKNESS,),
                    attributes=("material", "length_cm", "weight_g", "recycled"),
                    ranges={"length_cm": (23, 200), "weight_g": (150, 2600)},
                    materials=("natural rubber", "cork", "organic cotton", "TPE"),
                ),
            ),
        ),
        adjectives=("Velo", "Stride", "Apex", "Tempo", "Sprint", "Momentum", "Vertex", "Kinetic"),
        lines=("Race", "Tour", "Flow", "Dash", "Pace", "Circuit", "Motion", "Form"),
        materials=("recycled polyester", "natural rubber", "aluminium"),
        uses=("daily training", "race day", "the gym and the park", "early morning sessions", "long rides"),
        care=(
            "Wipe it down after every session.",
            "Let it air dry away from direct heat.",
            "Check it for wear before each use.",
        ),
    ),
    Root(
        Node(
            "Garden",
            (
                Node(
                    "Garden Tools",
                    code="GTL",
                    nouns=("Hand Trowel", "Pruning Shears", "Rake", "Garden Fork", "Spade", "Hedge Trimmer"),
                    price=(9, 199),
                    attributes=("material", "weight_g", "length_cm", "warranty_years"),
                    ranges={"weight_g": (150, 3500), "length_cm": (18, 160)},
                    materials=("carbon steel", "stainless steel", "ash wood", "forged steel"),
                ),
                Node(
                    "Planters",
                    code="PLN",
                    nouns=("Window Box", "Hanging Basket", "Planter", "Raised Bed"),
                    price=(12, 249),
                    axes=(PLANTER_SIZES,),
                    attributes=("material", "capacity_l", "recycled"),
                    ranges={"capacity_l": (2, 300)},
                    materials=("terracotta", "galvanised steel", "larch wood", "recycled plastic"),
                ),
                Node(
                    "Watering",
                    code="WAT",
                    nouns=("Sprinkler", "Watering Can", "Drip Irrigation Kit", "Garden Hose", "Hose Reel"),
                    price=(9, 149),
                    attributes=("capacity_l", "length_cm", "material"),
                    ranges={"capacity_l": (1, 15), "length_cm": (30, 3000)},
                    materials=("galvanised steel", "reinforced PVC", "recycled plastic"),
                ),
                Node(
                    "Outdoor Furniture",
                    code="OFN",
                    nouns=("Hammock", "Garden Chair", "Picnic Table", "Sun Lounger", "Bistro Set"),
                    price=(49, 899),
                    axes=(COLOURS,),
                    attributes=("material", "weight_g", "waterproof"),
                    ranges={"weight_g": (1500, 45000)},
                    materials=("teak", "acacia wood", "powder-coated steel", "rattan"),
                ),
            ),
        ),
        adjectives=("Meadow", "Bramble", "Fern", "Orchard", "Hawthorn", "Greenfield", "Thistle", "Bluebell"),
        lines=("Grow", "Bloom", "Root", "Leaf", "Harvest", "Acre", "Sprout", "Glade"),
        materials=("carbon steel", "FSC-certified wood", "recycled plastic"),
        uses=("small balconies", "allotments and large gardens", "spring planting", "summer evenings"),
        care=(
            "Clean and oil the metal parts after use.",
            "Store it indoors over the winter.",
            "Rinse off soil before storing.",
        ),
    ),
    Root(
        Node(
            "Toys & Games",
            (
                Node(
                    "Board Games",
                    code="BGM",
                    nouns=("Card Game", "Party Game", "Family Board Game", "Strategy Game"),
                    price=(14, 79),
                    axes=(LANGUAGES,),
                    attributes=("min_age", "pieces", "weight_g"),
                    ranges={"min_age": (6, 14), "pieces": (54, 400), "weight_g": (150, 2200)},
                ),
                Node(
                    "Puzzles",
                    code="PUZ",
                    nouns=("Puzzle Box", "Jigsaw Puzzle", "3D Puzzle"),
                    models=("500", "1000", "1500", "2000"),
                    price=(12, 49),
                    attributes=("pieces", "min_age", "recycled"),
                    ranges={"pieces": (100, 2000), "min_age": (6, 12)},
                ),
                Node(
                    "Building Sets",
                    code="BLD",
                    nouns=("Construction Kit", "Marble Run", "Magnetic Tiles", "Building Set"),
                    price=(19, 199),
                    attributes=("pieces", "min_age", "recycled", "material"),
                    ranges={"pieces": (40, 1500), "min_age": (3, 12)},
                    materials=("beech wood", "ABS plastic", "bio-based plastic"),
                ),
                Node(
                    "Outdoor Toys",
                    code="OTY",
                    nouns=("Skipping Rope", "Flying Disc", "Kite", "Bubble Machine", "Water Blaster"),
                    price=(7, 69),
                    axes=(COLOURS,),
                    attributes=("min_age", "weight_g", "material"),
                    ranges={"min_age": (3, 10), "weight_g": (80, 1500)},
                ),
            ),
        ),
        adjectives=("Clever", "Happy", "Little", "Bright", "Curious", "Rainbow", "Wonder", "Jolly"),
        lines=("Fox", "Owl", "Bear", "Otter", "Panda", "Robin", "Badger", "Hedgehog"),
        materials=("beech wood", "recycled cardboard", "non-toxic plastic"),
        uses=("rainy afternoons", "family game nights", "birthday presents", "playing outside"),
        care=(
            "Keep small parts away from children under three.",
            "Wipe it clean with a damp cloth.",
            "Store the pieces in the box provided.",
        ),
    ),
    Root(
        Node(
            "Office",
            (
                Node(
                    "Notebooks",
                    code="NTB",
                    nouns=("Notebook", "Sketchbook", "Journal", "Planner"),
                    models=("A5", "A4", "Pocket"),
                    price=(6, 39),
                    axes=(RULINGS,),
                    attributes=("pages", "material", "recycled", "weight_g"),
                    ranges={"weight_g": (90, 600)},
                    materials=("acid-free paper", "recycled paper", "linen cover", "vegan leather cover"),
                ),
                Node(
                    "Pens",
                    code="PEN",
                    nouns=(
                        "Ballpoint Pen",
                        "Mechanical Pencil",
                        "Fineliner Set",
                        "Rollerball Pen",
                        "Fountain Pen",
                    ),
                    price=(3, 189),
                    axes=(COLOURS,),
                    attributes=("material", "weight_g", "length_cm"),
                    ranges={"weight_g": (8, 45), "length_cm": (12, 15)},
                    materials=("brass", "resin", "aluminium", "recycled plastic"),
                ),
                Node(
                    "Desk Accessories",
                    code="DSK",
                    nouns=("Desk Mat", "Letter Tray", "Desk Organiser", "Monitor Stand", "Desk Lamp"),
                    price=(12, 149),
                    axes=(COLOURS,),
                    attributes=("material", "weight_g", "length_cm"),
                    ranges={"weight_g": (120, 4000), "length_cm": (20, 90)},
                    materials=("walnut", "felt", "powder-coated steel", "cork"),
                ),
                Node(
                    "Laptop Bags",
                    code="LBG",
                    nouns=("Laptop Sleeve", "Messenger Bag", "Laptop Backpack", "Briefcase"),
                    models=("13", "14", "15", "16"),
                    price=(24, 229),
                    axes=(COLOURS,),
                    attributes=("material", "capacity_l", "waterproof", "weight_g"),
                    ranges={"capacity_l": (2, 30), "weight_g": (200, 1600)},
                    materials=("waxed canvas", "recycled polyester", "full-grain leather"),
                ),
            ),
        ),
        adjectives=("Atlas", "Folio", "Ledger", "Quill", "Compass", "Marlow", "Sterling", "Harper"),
        lines=("Desk", "Note", "Line", "Studio", "Classic", "Edition", "Series", "Works"),
        materials=("recycled paper", "aluminium", "walnut"),
        uses=("the home office", "meetings and lectures", "daily planning", "sketching on the go"),
        care=(
            "Keep it out of direct sunlight.",
            "Wipe it with a slightly damp cloth.",
            "Refills are sold separately.",
        ),
    ),
)


# --- prices --------------------------------------------------------------------------------------

# Rough rates from euros, for realistic amounts in the shop currency; an unknown currency takes
# the euro amounts as they are.
RATES = {
    "EUR": 1.0,
    "USD": 1.08,
    "GBP": 0.85,
    "CHF": 0.95,
    "SEK": 11.4,
    "NOK": 11.6,
    "DKK": 7.46,
    "PLN": 4.3,
    "CZK": 25.0,
    "CAD": 1.47,
    "AUD": 1.63,
    "JPY": 160.0,
}
# What a price ends in, in cents below a whole amount: mostly .99, sometimes .95 or .49.
ENDINGS = (1, 1, 1, 5, 51)


# --- descriptions --------------------------------------------------------------------------------

QUALITIES = (
    "versatile",
    "dependable",
    "thoughtfully designed",
    "hard-wearing",
    "beautifully simple",
    "well-made",
    "practical",
    "refined",
    "everyday",
)
FEATURE_ADJECTIVES = (
    "reinforced",
    "lightweight",
    "durable",
    "carefully chosen",
    "precise",
    "low-profile",
    "hand-finished",
    "ergonomic",
    "smooth",
    "tested",
    "robust",
)
PARTS = ("materials", "details", "components", "finishes", "fittings", "edges", "joins")
BENEFITS = (
    "stand up to daily use",
    "hold up well over time",
    "add comfort without extra weight",
    "reduce wear where it matters",
    "make every use a little easier",
    "keep maintenance to a minimum",
    "give it a quality feel",
    "help it last for years",
)
OCCASIONS = (
    "",
    "",
    " in every season",
    " at home and away",
    " from the very first use",
    " even after years of use",
)
