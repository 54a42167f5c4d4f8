"""teahub: one system of record for a tea retailer."""

__version__ = "0.1.0"
