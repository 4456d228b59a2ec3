"""The words and numbers generated data is drawn from, and ``take`` to pick from them.

Category, product and brand names, cities, regions, currencies, promotion types
and attribute values. Some hold commas, quotes or a newline on purpose, so the
files need quoting. ``take`` picks values of a pool by index, with nulls.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

CATEGORIES = (
    "Beverages", "Snacks", "Dairy", "Produce", "Household", "Personal Care", "Frozen", "Bakery",
)  # fmt: skip
PRODUCE = CATEGORIES.index("Produce")
SUBCATEGORIES = (
    ("Soft Drinks", "Water", "Juice"),
    ("Chips", "Cookies", "Nuts"),
    ("Milk", "Cheese", "Yogurt"),
    ("Fruit", "Vegetables", "Herbs"),
    ("Cleaning", "Paper", "Laundry"),
    ("Hair Care", "Oral Care", "Skin Care"),
    ("Ice Cream", "Ready Meals", "Vegetables"),
    ("Bread", "Pastry", "Cakes"),
)
NOUNS = (
    ("Cola", "Sparkling Water", "Orange Juice", "Iced Tea"),
    ("Chips, Sea Salt", "Pretzels", "Oat Cookies", "Mixed Nuts"),
    ("Whole Milk", "Cheddar", "Greek Yogurt", "Butter"),
    ("Apples, Gala", "Bananas", "Tomatoes, Vine", "Carrots"),
    ("Dish Soap", "Paper Towels", "Laundry Pods", "Sponges"),
    ("Shampoo", "Toothpaste", "Hand Cream", "Deodorant"),
    ("Vanilla Ice Cream", "Lasagne", "Frozen Peas", "Pizza"),
    ("Sourdough", "Croissants", "Bagels", "Carrot Cake"),
)
SEASON = (  # yearly wave per category: amplitude, day of year of the peak
    (0.35, 196), (0.10, 350), (0.05, 20), (0.15, 180), (0.05, 30), (0.05, 10), (0.30, 200),
    (0.08, 355),
)  # fmt: skip
WEEKLY = (0.85, 0.85, 0.9, 0.95, 1.15, 1.35, 1.0)
DESCRIPTORS = (
    "Classic", "Organic", "Family", "Premium", "Everyday", 'Chef\'s "Best"', "Lite", "Extra",
)  # fmt: skip
SIZE_LABELS = ("250g", "500g", "1kg", "330ml", "1l", "6-pack", "12-pack", "XL")
BRANDS = (
    "Acme", "Blue Ridge", "Contoso", "Fabrikam", "Green Valley", "Harbor & Co", "Northstar",
    "Oak Lane", "Pinecrest", "Sunny Side", "Tailspin", "Woodgrove",
)  # fmt: skip
UNITS = ("each", "pack", "kg")
PACK_SIZES = (1, 1, 1, 1, 1, 1, 1, 6, 12, 24)
ACTIVE_TRUE = (None, "true", "true", "Y", "1", "yes", "TRUE")
ACTIVE_FALSE = ("false", "false", "false", "N", "0", "no", "FALSE")
NAME_SUFFIXES = ("", " (new pack)")
NEWLINE_SUFFIXES = ("", "\nLimited Edition")

CITIES = (
    "Springfield", "Riverside", "Fairview", "Greenville", "Franklin", "Bristol", "Clinton",
    "Georgetown", "Salem", "Madison", "Ashland", "Oxford", "Dover", "Milton", "Newport",
    '"The Yard"',
)  # fmt: skip
STORE_KINDS = (" Market", " Superstore", ", Mall", " Express", ", Downtown", " Outlet")
REGIONS = ("North", "South", "East", "West", "Central")
REGION_CHANGES = ("North-East", "South-West")
LOCATION_TYPES = ("store", "dc", "online")
LOCATION_TYPE_TEXT = (("store", "store", "store", "Store"), ("dc", "DC"), ("online", "Online"))
CLUSTERS = ("A", "B", "C")
CURRENCY_OF = {
    "US": "USD", "CA": "CAD", "DE": "EUR", "FR": "EUR", "NL": "EUR", "GB": "GBP", "JP": "JPY",
}  # fmt: skip
PRICE_SCALE = {"JPY": 150.0}

PROMO_TYPES = ("price_cut", "bogo", "display", "flyer", "flyer, regional")
PROMO_TYPE_SHARE = (0.55, 0.1, 0.2, 0.1, 0.05)
PRICE_CUTS = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 12.5)

HOT_ATTRIBUTES = ("color", "size", "material", "shelf_life_days", "is_organic")
ATTRIBUTE_WORDS = (
    "fiber", "voltage", "grade", "finish", "scent", "flavor", "origin", "cert", "allergen",
    "pattern", "texture", "density", "warranty", "batch", "season", "style", "capacity", "depth",
    "width", "height", "weight", "volume", "ph", "roast", "grind", "cut", "blend", "strength",
    "fit", "closure", "coating", "format", "tier", "channel", "label", "series", "variant",
    "gauge", "rating", "recycle",
)  # fmt: skip
COLORS = ("red", "blue", "green", "black", "white", "navy, light", "amber", "silver", "clear")
SIZES = ("S", "M", "L", "XL", "250 ml", "1 kg", '12" wide', "family")
MATERIALS = ("cotton", "glass", "PET", "aluminium", "paper", "steel", "bamboo", "cardboard")
VALUE_WORDS = (
    "alpha", "bravo", "coastal", "deluxe", "eco", "fresh", "gold", "heritage", "iconic", "jumbo",
    "kosher", "local", "matte", "natural", "original", "pure", "quick", "rustic", "smooth",
    "tropical", "ultra", "vivid", "wild", "zesty", "type A", "type B", "mixed, assorted",
    'the "best" one',
)  # fmt: skip
FLAGS = ("yes", "no", "Y", "N", "n/a")


def long_texts() -> tuple[str, ...]:
    """Free-text attribute values, up to about 900 characters."""
    sentence = "Store cool and dry, away from sunlight; see pack for details. "
    return (
        "Imported; check local availability.",
        'Marked "limited", sold while stocks last.',
        (sentence * 5).strip(),
        (sentence * 15).strip(),
    )


def take(pool: pa.Array, indices: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """The values of ``pool`` at ``indices``; where ``null`` is set, a null."""
    return pool.take(pa.array(np.asarray(indices, dtype=np.int64), mask=null))
