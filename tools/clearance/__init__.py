"""Clearance: governance as code for crisis communication."""

from __future__ import annotations

# The first release under this name: no "clearance 0.1.0" was ever published.
__version__ = "0.2.0"
