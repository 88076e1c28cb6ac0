"""``quantlaunch-engine plan``: show the launch plan (kernel path, layers and memory per
device) and its diagnostics, readably or as JSON. Exit code 1 while an error remains."""

from __future__ import annotations

import argparse
import json
import sys

from engine.demo import resolve_model_path
from engine.devices.inventory import MIB, Inventory
from engine.devices.rigs import RIG_ENV_VAR, read_inventory
from engine.diagnostics import DiagnosticError
from engine.plan.catalogue import bad_setting
from engine.plan.planner import plan
from engine.plan.selection import match_ref
from engine.plan.types import DevicePlan, Plan
from engine.settings import KERNEL_CHOICES, DeviceRef, LaunchSettings


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("plan", help="show the launch plan for a model on this machine (or a simulated rig)")
    parser.add_argument("--model", required=True, help="GGUF file, or 'demo' for the bundled demo model")
    parser.add_argument("--rig", help=f"simulated rig name or JSON path (default: ${RIG_ENV_VAR}, else real GPUs)")
    parser.add_argument("--devices", nargs="+", metavar="DEV", help="GPUs to use: index, UUID or name (comma lists ok)")
    parser.add_argument("--exclude", nargs="+", metavar="DEV", default=[], help="GPUs never to use")
    parser.add_argument("--exclude-legacy", action="store_true", help="drop GPUs below compute capability 6.1")
    parser.add_argument("--force-mmvq", action="store_true", help="mmvq everywhere (software dp4a below cc 6.1)")
    parser.add_argument("--kernel", action="append", default=[], metavar="DEV=PATH",
                        help=f"kernel path for one GPU: PATH in {', '.join(KERNEL_CHOICES)} (repeatable)")
    parser.add_argument("--context", type=int, default=4096, help="context size in tokens (default 4096)")
    parser.add_argument("--gpu-layers", type=int, default=None, help="at most this many layers on GPUs")
    parser.add_argument("--tensor-split", metavar="R1,R2,...",
                        help="share of the layers per selected GPU, in selection order (e.g. 3,1)")
    parser.add_argument("--cpu", action="store_true", help="plan for the CPU backend only")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.set_defaults(run=run)


def device_ref(text: str) -> DeviceRef:
    """A CLI device selector: an index ("1"), a UUID ("GPU-…") or a name."""
    text = text.strip()
    if text.isdigit():
        return DeviceRef(uuid="", index=int(text))
    if text.upper().startswith(("GPU-", "MIG-")):
        return DeviceRef(uuid=text)
    return DeviceRef(uuid="", name=text)


def _refs(values: list[str] | None) -> tuple[DeviceRef, ...]:
    return tuple(device_ref(part) for value in values or () for part in value.split(",") if part.strip())


def _device_kernels(pairs: list[str], inventory: Inventory) -> tuple[tuple[str, str], ...]:
    kernels = []
    for pair in pairs:
        device_text, _, path = pair.rpartition("=")
        match = match_ref(device_ref(device_text), inventory.devices) if device_text else None
        if match is None or match.device is None or path not in KERNEL_CHOICES:
            expected = f"DEV=PATH with DEV a GPU of this inventory and PATH in {', '.join(KERNEL_CHOICES)}"
            raise DiagnosticError(bad_setting("--kernel", pair, expected))
        kernels.append((match.device.uuid, path))
    return tuple(kernels)


device_kernels_from_pairs = _device_kernels  # public name for `serve` (same --kernel syntax)


def tensor_split_from_text(text: str | None) -> tuple[float, ...]:
    """``--tensor-split 3,1`` -> (3.0, 1.0); None -> (); QL-E-SETTINGS when a part is not a number.

    Range checks (negative, NaN, all zero, one share per GPU) are the planner's."""
    if text is None:
        return ()
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise DiagnosticError(bad_setting("--tensor-split", text, "numbers separated by commas, e.g. 3,1")) from None


def settings_from_args(args: argparse.Namespace, inventory: Inventory) -> LaunchSettings:
    return LaunchSettings(
        selected=_refs(args.devices) if args.devices else None,
        excluded=_refs(args.exclude),
        exclude_legacy=args.exclude_legacy,
        kernel="mmvq" if args.force_mmvq else "auto",
        device_kernels=_device_kernels(args.kernel, inventory),
        context_size=args.context,
        gpu_layers=args.gpu_layers,
        force_cpu=args.cpu,
        tensor_split=tensor_split_from_text(args.tensor_split),
    )


def _mib(n_bytes: int) -> str:
    return f"{n_bytes / MIB:,.0f}"


def _device_lines(device: DevicePlan) -> list[str]:
    cc = f"{device.compute_capability[0]}.{device.compute_capability[1]}"
    state = "selected" if device.selected else "not selected"
    layers = f"layers {device.layers[0]}-{device.layers[1] - 1} ({device.n_layers})" if device.layers else "no layers"
    m = device.memory
    lines = [f"  [{device.index}] {device.name}  (cc {cc}, {device.uuid})",
             f"      {state}; path {device.path or '-'}; {layers}"]
    if device.layers:
        lines.append(f"      memory {_mib(m.total)} of {_mib(m.free)} MiB free "
                     f"(weights {_mib(m.weights)}, KV cache {_mib(m.kv_cache)}, scratch {_mib(m.scratch)})")
    else:
        lines.append(f"      {_mib(m.free)} MiB free")
    lines.append("      badges: " + (", ".join(b.label for b in device.badges) or "-"))
    return lines


def render_text(result: Plan, inventory: Inventory) -> str:
    lines = [f"Plan for {result.model_name} ({result.file_type}): {result.n_layers} layers, context {result.context_size:,}"]
    if inventory.simulated:
        lines.append(f"Devices: SIMULATED rig '{inventory.rig_name}' (not this machine's hardware)")
    else:
        lines.append(f"Devices: {inventory.source_label}; driver {inventory.driver_version or '-'}, "
                     f"CUDA {inventory.cuda_driver_version or '-'}")
    for device in result.devices:
        lines.extend(_device_lines(device))
    if not result.devices:
        lines.append(f"  none ({inventory.reason or 'no GPU'})")
    lines.append(f"CPU: {result.cpu_layers} layer(s); backend: {result.backend}")
    if result.diagnostics:
        lines.append("Diagnostics:")
    for diag in result.diagnostics:
        lines.append(f"  {diag.one_line()}")
        lines.append(f"    {diag.detail}")
        lines.extend(f"    fix: {remedy.label}" for remedy in diag.remedies)
    errors = sum(d.is_error for d in result.diagnostics)
    lines.append("Result: ready to launch" if result.ok else f"Result: NOT launchable ({errors} error(s))")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from engine.model_file import inspect_model

    inventory = read_inventory(args.rig)
    settings = settings_from_args(args, inventory)
    model = inspect_model(resolve_model_path(args.model))
    result = plan(inventory, settings, model)
    if args.json:
        document = {**result.to_dict(), "inventory": inventory.to_dict()}
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render_text(result, inventory))
    return 0 if result.ok else 1
