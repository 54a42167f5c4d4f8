"""Segments and campaigns' tables."""

from __future__ import annotations
