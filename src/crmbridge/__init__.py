"""crmbridge: a plugin-based guest-data integration layer beside the hotel PMS."""

__version__ = "0.2.0"
