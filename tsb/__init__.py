"""tsb: TextStyleBrush, reproducible."""

__version__ = "0.1.0"
