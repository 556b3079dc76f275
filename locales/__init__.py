"""The message catalogs and templates, shipped as package data so an installed bot finds them."""

from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent
