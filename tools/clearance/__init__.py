"""Clearance: governance as code for crisis communication."""

from __future__ import annotations

__version__ = "0.1.0"
