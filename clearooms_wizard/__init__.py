"""Clearooms Office 365 setup wizard."""

__version__ = "0.1.0"
