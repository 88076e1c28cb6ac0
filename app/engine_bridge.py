"""The one place the launcher calls the engine's GPU-free modules (devices, plan, profiles,
model inspection, demo). Widgets see only the small frozen view types defined here, so a
change in an engine module's shape is absorbed in this file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from engine.devices.badges import CUDA12_ARCHS, badges_for
from engine.devices.badges import Badge as EngineBadge
from engine.devices.inventory import Device, Inventory
from engine.diagnostics import Diagnostic, Remedy, error, warning
from engine.model_info import ModelInfo
from engine.settings import DeviceRef, LaunchSettings, Profile

LEGACY_CC = (6, 1)  # below this a card has no native dp4a: dmmv by default
# The launcher must not load cupy (runtime_supported_archs() would), so it plans against the
# CUDA 12 NVRTC list; it differs from the live one only above sm_90, which runs PTX anyway.
SUPPORTED_ARCHS = CUDA12_ARCHS
BADGE_TONES = {"dp4a": "good", "fast-fp16": "info", "tensor-fp16": "info", "tensor-int8": "info",
               "tensor-bf16": "info", "legacy-dmmv": "warn", "unsupported": "bad"}
SHORT_BADGE_LABELS = {"fast-fp16": "fp16", "tensor-fp16": "TC fp16", "tensor-int8": "TC int8",
                      "tensor-bf16": "TC bf16", "unsupported": "unsupported by CUDA 12"}


@dataclass(frozen=True)
class Badge:
    label: str
    tooltip: str
    tone: str  # "good" | "info" | "warn" | "bad": the pill colour


@dataclass(frozen=True)
class Hardware:
    inventory: Inventory
    badges: tuple[tuple[Badge, ...], ...]  # per device, same order as inventory.devices


@dataclass(frozen=True)
class DeviceRow:
    uuid: str
    index: int
    name: str
    cc_text: str
    memory_text: str  # e.g. "11.0 GiB (10.2 free)"
    badges: tuple[Badge, ...]
    selected: bool
    kernel_choice: str  # auto | mmvq | dmmv (what the user picked)
    resolved_path: str  # what the plan runs: mmvq | mmvq-soft | dmmv | "" (unused)
    layers_text: str  # e.g. "24 layers, 6.1 GiB" or ""


@dataclass(frozen=True)
class Preflight:
    waiting: str  # non-empty while inventory or model is not known yet
    rows: tuple[DeviceRow, ...]
    diagnostics: tuple[Diagnostic, ...]
    summary: str  # one line: where the model runs
    plan: Any = None  # the planner's Plan, for the engine profile and tests

    @classmethod
    def pending(cls, why: str = "Reading GPUs…") -> Preflight:
        return cls(why, (), (), "")


def gib(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.1f} GiB"


def human_size(n_bytes: int) -> str:
    """Bytes in the largest unit that keeps a number ≥ 1: "43.0 MiB", "4.1 GiB"."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} B"


# --- hardware ---------------------------------------------------------------------------
def read_hardware(rig: str | None) -> Hardware:
    """Inventory (NVML or a simulated rig) plus badges. Runs in a worker thread."""
    from engine.devices.rigs import read_inventory

    inventory = read_inventory(rig)
    return Hardware(inventory, tuple(device_badges(d) for d in inventory.devices))


def badge_view(badge: EngineBadge) -> Badge:
    label = SHORT_BADGE_LABELS.get(badge.key, badge.label)
    return Badge(label, f"{badge.label}: {badge.explanation}", BADGE_TONES.get(badge.key, "info"))


def device_badges(device: Device) -> tuple[Badge, ...]:
    return tuple(badge_view(b) for b in badges_for(device, SUPPORTED_ARCHS))


# --- planning ---------------------------------------------------------------------------
def preflight(hardware: Hardware | None, profile: Profile, model: ModelInfo | None,
              model_problem: Diagnostic | None) -> Preflight:
    if hardware is None:
        return Preflight.pending("Reading GPUs…")
    if model is None and model_problem is None:
        return Preflight.pending("Inspecting the model…")
    if model is None:
        return Preflight("", _rows_without_plan(hardware, profile.launch), (model_problem,), "")
    from engine.plan import plan as make_plan

    result = make_plan(hardware.inventory, profile.launch, model, supported_archs=SUPPORTED_ARCHS)
    rows = tuple(_row(hardware, i, profile.launch, result) for i in range(len(hardware.inventory.devices)))
    return Preflight("", rows, tuple(result.diagnostics), _summary(result), result)


def _planned_device(result: Any, uuid: str) -> Any:
    return next((d for d in result.devices if d.uuid == uuid), None)


def _row(hardware: Hardware, i: int, launch: LaunchSettings, result: Any) -> DeviceRow:
    device = hardware.inventory.devices[i]
    planned = _planned_device(result, device.uuid) if result is not None else None
    selected = bool(planned.selected) if planned is not None else is_selected(launch, device)
    layers = planned.n_layers if planned is not None else 0
    memory = planned.memory.total if planned is not None else 0
    layers_text = f"{layers} layer{'s' * (layers != 1)} · {human_size(memory)}" if selected and layers else ""
    return DeviceRow(
        uuid=device.uuid, index=device.index, name=device.name, cc_text=device.cc_text,
        memory_text=f"{gib(device.memory_total)} · {device.memory_free / 2**30:.1f} free",
        badges=hardware.badges[i], selected=selected, kernel_choice=launch.kernel_for(device.uuid),
        resolved_path=(planned.path or "") if planned is not None and selected else "", layers_text=layers_text,
    )


def _rows_without_plan(hardware: Hardware, launch: LaunchSettings) -> tuple[DeviceRow, ...]:
    return tuple(_row(hardware, i, launch, None) for i in range(len(hardware.inventory.devices)))


def _summary(result: Any) -> str:
    used = result.used_devices
    if not used:
        return f"Runs on the CPU: all {result.n_layers} layers (no GPU selected or usable)."
    parts = [f"{d.name} — {d.n_layers} layers via {d.path}" for d in used]
    cpu = f"; CPU — {result.cpu_layers} layers" if result.cpu_layers else ""
    return "Runs on " + "; ".join(parts) + cpu


# --- settings edits ---------------------------------------------------------------------
def is_selected(launch: LaunchSettings, device: Device) -> bool:
    if any(ref.uuid == device.uuid for ref in launch.excluded):
        return False
    if launch.exclude_legacy and device.compute_capability < LEGACY_CC:
        return False
    return launch.selected is None or any(ref.uuid == device.uuid for ref in launch.selected)


def with_device_selected(launch: LaunchSettings, hardware: Hardware | None, uuid: str,
                         selected: bool) -> LaunchSettings:
    devices = hardware.inventory.devices if hardware else ()
    device = next((d for d in devices if d.uuid == uuid), None)
    ref = DeviceRef(uuid, device.name if device else "", device.index if device else -1)
    excluded = tuple(r for r in launch.excluded if r.uuid != uuid)
    if selected:
        chosen = launch.selected
        if chosen is not None and all(r.uuid != uuid for r in chosen):
            chosen = (*chosen, ref)
        return launch.with_changes(selected=chosen, excluded=excluded, force_cpu=False)
    return launch.with_changes(excluded=(*excluded, ref))


def apply_remedy(profile: Profile, remedy: Remedy) -> Profile:
    """The profile with ``remedy`` applied; unchanged if the remedy is not a settings change."""
    from engine.plan.remedies import RemedyNotApplicable
    from engine.plan.remedies import apply_remedy as engine_apply

    if remedy.action == "change_port":
        port = int(remedy.args.get("port", profile.server.port + 1))
        return replace(profile, server=replace(profile.server, port=port))
    try:
        return replace(profile, launch=engine_apply(profile.launch, remedy))
    except RemedyNotApplicable:
        return profile


# --- profiles and models ----------------------------------------------------------------
def inspect_model(path: str) -> ModelInfo:
    from engine.model_file import inspect_model as engine_inspect

    return engine_inspect(path)


def demo_model_path() -> str | None:
    try:
        from engine.demo import demo_model_path as engine_demo
    except ImportError:
        return None
    found = engine_demo()
    return str(found) if found else None


def missing_model_problem(path: str) -> Diagnostic:
    return error("QL-E-NO-MODEL", "No model chosen", "Choose a GGUF model file to plan and launch.",
                 Remedy("choose_other_file", "Choose a model…"), path=path)


def no_gpu_notice(inventory: Inventory) -> Diagnostic:
    return warning("QL-W-NO-GPU", "No NVIDIA GPU: running on the CPU", inventory.reason or "")


def empty_hardware(reason: str, rig: str | None) -> Hardware:
    """No devices (the inventory itself failed, e.g. a bad rig name): plan for the CPU."""
    return Hardware(Inventory(reason=reason, simulated=bool(rig), rig_name=rig or ""), ())


def resolve_model_path(model_path: str) -> str:
    """The file to inspect: the profile's path, or the demo model for "" / "demo" ("" if absent)."""
    if model_path in ("", "demo"):
        return demo_model_path() or ""
    return model_path
