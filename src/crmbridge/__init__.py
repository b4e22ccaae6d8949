"""crmbridge: a plugin-based guest-data integration layer beside the hotel PMS."""

__version__ = "0.1.0"
