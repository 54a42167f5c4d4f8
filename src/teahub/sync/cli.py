"""`teahub sync ...` (mounted by teahub.cli)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Outbound sync to external systems: relay, connectors, dead letters, mappings.",
                  no_args_is_help=True)
