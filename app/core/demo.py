"""Demo data: realistic users and customers (modules add their own through `backend/demo.py`)."""

from __future__ import annotations

import random

import psycopg

from app.core import auth, database

DEMO_PASSWORD = "demo-password"
# Every demo user shares this password (printed by `bmc-hub demo`).

DEMO_USERS = [
    ("mette", "Mette Jensen", "admin"),
    ("lars", "Lars Nielsen", "user"),
    ("sofie", "Sofie Hansen", "user"),
    ("jonas", "Jonas Pedersen", "user"),
    ("freja", "Freja Andersen", "user"),
    ("mikkel", "Mikkel Christensen", "user"),
]

COMPANY_WORDS = [
    "Nordlys", "Havblik", "Skovbryn", "Fjordtech", "Kystdata", "Lundgaard", "Bakkehus", "Engvej",
    "Søndergaard", "Vestergaard", "Østerby", "Møllegaard", "Holm", "Birk", "Lyngby", "Rosendal",
    "Egeskov", "Solbjerg", "Strandvej", "Bøgely", "Klitmøller", "Højvang", "Granly", "Ådal",
]
COMPANY_KINDS = [
    "Revision", "Tandklinik", "Auto", "Byg", "Advokater", "Arkitekter", "Logistik", "VVS",
    "Ejendomme", "Consult", "El-service", "Bageri", "Dyreklinik", "Tømrer", "Regnskab", "Fysioterapi",
]
CITIES = [
    ("8000", "Aarhus C"), ("5000", "Odense C"), ("9000", "Aalborg"), ("6700", "Esbjerg"),
    ("7100", "Vejle"), ("2100", "København Ø"), ("4000", "Roskilde"), ("8600", "Silkeborg"),
    ("7400", "Herning"), ("3400", "Hillerød"), ("6000", "Kolding"), ("8900", "Randers"),
]
# E-mail domains are ASCII: æ, ø, å as Danes write them in addresses.
DANISH_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
STREETS = ["Hovedgaden", "Industrivej", "Vestergade", "Søndergade", "Havnegade", "Stationsvej", "Skolevej"]


def demo_users() -> int:
    """Create the demo users that do not exist yet; return how many were created."""
    created = 0
    password_hash = auth.hash_password(DEMO_PASSWORD)
    for username, full_name, role in DEMO_USERS:
        created += database.execute_update(
            "INSERT INTO users (username, email, full_name, password_hash, role) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (username, f"{username}@bmc-demo.dk", full_name, password_hash, role),
        )
    return created


def demo_customers(count: int = 40, seed: int = 7, advance=lambda n=1: None) -> int:
    """Create up to `count` demo customers (idempotent by CVR number); return how many were new."""
    rng = random.Random(seed)
    # Every name once (shuffled); past the 384 combinations a number keeps them apart.
    names = [f"{word} {kind}" for word in COMPANY_WORDS for kind in COMPANY_KINDS]
    rng.shuffle(names)
    created = 0
    for i in range(count):
        name = names[i % len(names)] + (f" {i // len(names) + 1}" if i >= len(names) else "")
        if i % 5 == 0:
            name += " ApS"
        elif i % 7 == 0:
            name += " A/S"
        postal, city = rng.choice(CITIES)
        cvr = f"{30000000 + seed * 1000 + i:08d}"
        slug = "".join(ch for ch in name.lower().translate(DANISH_LETTERS) if ch.isascii() and ch.isalnum())[:20]
        try:
            created += database.execute_update(
                "INSERT INTO customers (name, cvr_number, email, phone, address, postal_code, city, "
                "economic_customer_number, notes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (name, cvr, f"kontakt@{slug}.dk", f"+45 {rng.randint(20000000, 99999999)}",
                 f"{rng.choice(STREETS)} {rng.randint(1, 120)}", postal, city, 1000 + i,
                 "Demo customer."),
            )
        except psycopg.errors.UniqueViolation:
            pass
        advance()
    return created
