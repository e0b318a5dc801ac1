"""The version of cem."""

__version__ = "0.1.0"
