"""The webshop module (see README.md)."""
