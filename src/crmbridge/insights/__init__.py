"""Insights derived from the store: dining preferences from POS checks, later segments and alert rules."""
