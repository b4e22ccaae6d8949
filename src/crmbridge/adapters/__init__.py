"""Adapters built into the core distribution (registered via the `crmbridge` entry points)."""
