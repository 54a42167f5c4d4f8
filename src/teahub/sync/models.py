"""Outbound sync: connectors' deliveries, dead letters and per-record sync state."""

from __future__ import annotations
