"""The options every benchmark takes, and ``--quick``."""

from __future__ import annotations

import argparse
from typing import Any, Optional


def parser(doc: Optional[str], runs: int, warmup: int) -> argparse.ArgumentParser:
    """The options every benchmark script takes; the script adds its own."""
    p = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    p.add_argument("--runs", type=int, default=runs, help=f"timed runs per case ({runs})")
    p.add_argument("--warmup", type=int, default=warmup, help=f"untimed rounds first ({warmup})")
    p.add_argument("--quick", action="store_true", help="small sizes and few runs: a smoke test")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--tmp", help="parent of the work folder (default: the system temp dir)")
    p.add_argument("--module", action="store_true", help="run python -m relocator instead")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--strict", action="store_true", help="exit 1 when a goal is not met")
    return p


def parse(
    p: argparse.ArgumentParser, argv: Optional[list[str]], **quick: Any
) -> argparse.Namespace:
    """Parse ``argv``; with ``--quick``, ``quick`` replaces the defaults (not what was given)."""
    args = p.parse_args(argv)
    if args.quick:
        p.set_defaults(**quick)
        args = p.parse_args(argv)
    return args
