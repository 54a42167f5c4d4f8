"""`teahub crm segments ...` and `teahub crm campaigns ...` (mounted under the crm group by teahub.cli)."""

from __future__ import annotations

import typer

segments_app = typer.Typer(help="Customer segments defined by rules.", no_args_is_help=True)
campaigns_app = typer.Typer(help="Campaigns: coupons or messages to a segment, and their results.",
                            no_args_is_help=True)
