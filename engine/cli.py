"""``quantlaunch-engine``: the engine's command line.

Each sub-command lives in ``engine/commands/<name>.py`` and exposes
``add_parser(subparsers)`` (registering itself, with ``set_defaults(run=...)``) and a
``run(args) -> int``. A :class:`DiagnosticError` that reaches this level is printed as one
clear message with a non-zero exit; no traceback ever reaches a user.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback

from engine import __version__
from engine.diagnostics import DiagnosticError

COMMANDS = ("inspect", "synth", "plan", "generate", "logits", "perplexity", "serve", "kernels")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantlaunch-engine", description="QuantLaunch engine")
    parser.add_argument("--version", action="version", version=f"quantlaunch-engine {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"engine.commands.{name}").add_parser(subparsers)
    return parser


def print_diagnostic(diag) -> None:
    print(f"{diag.severity.value}: {diag.title} [{diag.code}]", file=sys.stderr)
    if diag.detail:
        print(f"  {diag.detail}", file=sys.stderr)
    for remedy in diag.remedies:
        print(f"  fix: {remedy.label}", file=sys.stderr)
    if os.environ.get("QUANTLAUNCH_DEBUG") and diag.technical:
        print(json.dumps(diag.technical, indent=2, default=str), file=sys.stderr)


def internal_error(exc: BaseException):
    """An unexpected exception as a diagnostic: one clear line, the traceback only on request."""
    from engine.diagnostics import error

    return error(
        "QL-E-INTERNAL",
        f"Internal error: {type(exc).__name__}: {exc}"[:300],
        "QuantLaunch hit a problem it did not expect. Run again with QUANTLAUNCH_DEBUG=1 to see "
        "the technical details, and please report them.",
        traceback="".join(traceback.format_exception(exc))[-4000:],
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except DiagnosticError as exc:
        print_diagnostic(exc.diagnostic)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a raw traceback for a user
        print_diagnostic(internal_error(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
