"""Care rules' and outgoing customer messages' tables."""

from __future__ import annotations
