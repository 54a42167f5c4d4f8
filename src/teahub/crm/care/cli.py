"""`teahub crm care ...` (mounted under the crm group by teahub.cli)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Care rules: thank-you, birthday, repurchase due, win-back, CSAT survey messages.",
                  no_args_is_help=True)
