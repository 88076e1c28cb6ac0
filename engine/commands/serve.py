"""``quantlaunch-engine serve``: plan, load and serve the HTTP API, reporting on stdout in
the JSON-lines protocol (engine.protocol). Settings come from a profile (``--profile
FILE.json`` or ``--profile -`` for JSON on stdin) and/or flags; a flag given explicitly
overrides the profile's value."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path

from engine.devices.rigs import RIG_ENV_VAR
from engine.diagnostics import DiagnosticError, error
from engine.json_text import why_not_json
from engine.settings import KERNEL_CHOICES, Profile

STDIN_PROFILE = "-"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("serve", help="load a model and serve the KoboldAI + OpenAI HTTP API")
    parser.add_argument("--profile", help="profile JSON file, or '-' to read it from stdin")
    parser.add_argument("--model", help="GGUF file, or 'demo' for the bundled demo model")
    parser.add_argument("--rig", help=f"simulated rig name or JSON path (default: ${RIG_ENV_VAR}, else real GPUs)")
    parser.add_argument("--devices", nargs="+", metavar="DEV", help="GPUs to use: index, UUID or name")
    parser.add_argument("--exclude", nargs="+", metavar="DEV", help="GPUs never to use")
    parser.add_argument("--exclude-legacy", action="store_true", default=None, help="drop GPUs below cc 6.1")
    parser.add_argument("--force-mmvq", action="store_true", default=None, help="mmvq everywhere")
    parser.add_argument("--kernel", action="append", default=[], metavar="DEV=PATH",
                        help=f"kernel path for one GPU: PATH in {', '.join(KERNEL_CHOICES)} (repeatable)")
    parser.add_argument("--context", type=int, help="context size in tokens (profile default 4096)")
    parser.add_argument("--gpu-layers", type=int, help="at most this many layers on GPUs")
    parser.add_argument("--tensor-split", metavar="R1,R2,...",
                        help="share of the layers per selected GPU, in selection order (e.g. 3,1)")
    parser.add_argument("--cpu", action="store_true", default=None, help="run on the CPU backend only")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 5001; 0 = any free port)")
    parser.add_argument("--api-key", help="require this key on every route but /health")
    parser.add_argument("--max-queue", type=int, default=8, help="requests that may wait (then 429)")
    parser.set_defaults(run=run)


def read_profile(source: str) -> Profile:
    """A profile from a file or stdin ('-'); QL-E-PROFILE-* diagnostics on any problem."""
    from engine.profiles import profile_from_document

    label = "<stdin>" if source == STDIN_PROFILE else source
    try:
        text = sys.stdin.read() if source == STDIN_PROFILE else Path(source).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." thousands deep
        raise DiagnosticError(error("QL-E-PROFILE-CORRUPT", "The profile cannot be read",
                                    f"{label}: {_unreadable_why(exc)}.", path=label, error=repr(exc)[:300])) from None
    return profile_from_document(data, Path(label), None)


def _unreadable_why(exc: BaseException) -> str:
    """Plain words for why a profile could not be read or parsed as JSON."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    why = why_not_json(exc)  # ValueError or RecursionError
    return why if isinstance(exc, UnicodeDecodeError) else f"it is not valid JSON ({why})"


def _launch_overrides(args: argparse.Namespace, profile: Profile) -> dict:
    from engine.commands.plan import device_ref, tensor_split_from_text

    def refs(values):
        return tuple(device_ref(p) for v in values for p in v.split(",") if p.strip())

    changes = {"selected": refs(args.devices) if args.devices else None, "excluded": refs(args.exclude or []) or None,
               "exclude_legacy": args.exclude_legacy, "kernel": "mmvq" if args.force_mmvq else None,
               "context_size": args.context, "gpu_layers": args.gpu_layers, "force_cpu": args.cpu,
               "tensor_split": tensor_split_from_text(args.tensor_split) if args.tensor_split is not None else None}
    return {k: v for k, v in changes.items() if v is not None}


def merged_profile(args: argparse.Namespace, profile: Profile) -> Profile:
    """The profile with every explicitly given flag applied on top."""
    launch = profile.launch.with_changes(**_launch_overrides(args, profile))
    server_changes = {"host": args.host, "port": args.port, "api_key": args.api_key}
    server = replace(profile.server, **{k: v for k, v in server_changes.items() if v is not None})
    model = args.model if args.model is not None else profile.model_path
    return replace(profile, model_path=model, launch=launch, server=server)


def serve_request(args: argparse.Namespace):
    from engine.service import ServeRequest

    profile = read_profile(args.profile) if args.profile else Profile()
    merged = merged_profile(args, profile)
    return ServeRequest(model=merged.model_path, launch=merged.launch, server=merged.server,
                        sampler=merged.sampler, rig=args.rig, kernel_pairs=tuple(args.kernel),
                        max_waiting=max(0, args.max_queue))


def run(args: argparse.Namespace) -> int:
    from engine import __version__
    from engine.serve_runtime import run_service
    from engine.service import ensure_pci_order, install_stop_handlers, protect_stdout

    sink = protect_stdout()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ensure_pci_order()
    stop = threading.Event()
    install_stop_handlers(stop)
    try:
        request = serve_request(args)
    except DiagnosticError as exc:
        sink.emit("hello", engine=__version__, backend="cpu", pid=os.getpid())
        sink.emit("error", diagnostic=exc.diagnostic.to_dict())
        return 1
    return run_service(request, sink, stop)
