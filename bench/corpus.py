"""A deterministic mixed corpus of orders for benchmarks (same seed, same orders)."""
from __future__ import annotations

import datetime as dt
import random

DESTINATIONS = ["CN", "DE", "MY", "VN", "AE", "SG", "JP", "KR", "IN", "MO", "HK", "RU", "KP", "BR", "US", "TW", "KH"]
CHIPS = [
    {"tpp": 15832, "die_area_mm2": 814, "datacenter": True},     # H100 class
    {"tpp": 4992, "die_area_mm2": 826, "datacenter": True},      # A100 class
    {"tpp": 3000, "performance_density": 4.0, "datacenter": True},
    {"tpp": 1300, "die_area_mm2": 380, "datacenter": False},     # consumer GPU
    {"tpp": 5000, "die_area_mm2": 600, "datacenter": False},
    {"memory_bandwidth_density": 3.5},                            # HBM3E stack
    {"memory_bandwidth_density": 1.5},
]
ECCNS = ["3A090.a", "3A090.b", "4A090.a", "EAR99", "3A090.c", "5A992.z.1"]


def corpus(n: int = 10_000, seed: int = 20261129, customers: int = 800, lines: int | None = None) -> list[dict]:
    """``n`` orders from a customer master of ``customers`` end users, as an ERP would send them;
    1-3 lines an order, or exactly ``lines``."""
    rng = random.Random(seed)
    start = dt.date(2022, 6, 1)
    orders = []
    for i in range(n):
        items = []
        for j in range(lines or rng.choice([1, 1, 1, 2, 3])):
            item = {"sku": f"SKU-{j}", "quantity": rng.randint(1, 64), "unit_value": rng.choice([900, 25000]),
                    "origin": rng.choice(["US", "US", "US", "TW"])}
            kind = rng.random()
            if kind < 0.5:
                item["chip"] = dict(rng.choice(CHIPS))
            elif kind < 0.9:
                item["eccn"] = rng.choice(ECCNS)
            if item["origin"] != "US":
                item["us_content_value"] = min(rng.choice([0, 100, 20000]), item["unit_value"])  # part of the item
                item["direct_product_of"] = rng.choice([[], [], ["3E001"]])
            items.append(item)
        customer = rng.randrange(customers)
        destination = DESTINATIONS[customer % len(DESTINATIONS)]
        end_user = {"role": "end_user", "name": f"Customer {customer} Ltd", "country": destination}
        if customer % 5 < 2:
            end_user["headquarters_country"] = ["CN", "US", "MY", "DE"][customer % 4]
        orders.append({
            "id": f"SO-{i:05d}", "date": (start + dt.timedelta(days=rng.randint(0, 1640))).isoformat(),
            "export_from": "US" if rng.random() < 0.8 else "TW",
            "destination": destination, "parties": [end_user], "items": items,
        })
    return orders


def released_within(orders: list[dict], days: int, last: dt.date = dt.date(2026, 11, 30)) -> list[dict]:
    """Copies of ``orders`` dated within the ``days`` days up to ``last``, in turn: the orders an ERP releases
    in a week, say, where ``corpus`` dates them over four and a half years."""
    return [{**order, "date": (last - dt.timedelta(days=i % days)).isoformat()} for i, order in enumerate(orders)]


PLACES = ["Shenzhen", "Beijing", "Dubai", "Moscow", "Hong Kong", "Kuala Lumpur", "Singapore", "Istanbul"]
FIELDS = ["Electronics", "Technology", "Trading", "Semiconductor", "Computing", "Industrial"]
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def unseen_parties(orders: list[dict], first: int = 0) -> list[dict]:
    """Copies of ``orders`` whose end user is a company no other order names (its first screening):
    common words of listed names around an invented word, unique for each number from ``first`` on."""
    out = []
    for k, order in enumerate(orders, start=first):
        # k -> a distinct number (7919 is prime to 70 ** 4) of four or five syllables
        number, word = k * 7919 % len(SYLLABLES) ** 4 + len(SYLLABLES) ** 3, ""
        while number:
            number, syllable = divmod(number, len(SYLLABLES))
            word += SYLLABLES[syllable]
        name = f"{PLACES[k % len(PLACES)]} {word.title()} {FIELDS[k % len(FIELDS)]} Co., Ltd."
        parties = [{**p, "name": name} if p["role"] == "end_user" else p for p in order["parties"]]
        out.append({**order, "id": f"{order['id']}-NEW{k}", "parties": parties})
    return out
