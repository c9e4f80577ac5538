"""The __MODULE_NAME__ module (see README.md)."""
