"""Simulated rigs: JSON descriptions of GPU boxes that replace NVML for tests and demos.

A rig file (``resources/rigs/NAME.json``)::

    {"name": "p100", "description": "...", "driver_version": "535.183.01",
     "cuda_driver_version": "12.2", "reason": "",
     "devices": [{"name": "Tesla P100-PCIE-16GB", "uuid": "GPU-...",
                  "compute_capability": [6, 0], "memory_total_mib": 16384,
                  "memory_free_mib": 16000, "pci_bus_id": "00000000:01:00.0"}]}

A rig is chosen by name or path, through a CLI flag (``--rig``) or the environment variable
``QUANTLAUNCH_RIG``; the flag wins. The inventory it gives is marked ``simulated``. Every
field is checked (types, ranges, unique uuid and index): a bad file is a QL-E-RIG diagnostic
naming the file and the field, never an exception from deep inside.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.devices.inventory import MIB, Device, Inventory, InventorySource, nvml_inventory
from engine.diagnostics import DiagnosticError, Remedy, error
from engine.json_text import parse_json_bytes

RIG_ENV_VAR = "QUANTLAUNCH_RIG"


def resources_root() -> Path:
    """The ``resources/`` folder: next to the packages, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def rigs_dir() -> Path:
    return resources_root() / "rigs"


def available_rigs() -> tuple[str, ...]:
    """Names of the bundled rigs, sorted."""
    folder = rigs_dir()
    return tuple(sorted(p.stem for p in folder.glob("*.json"))) if folder.is_dir() else ()


def _rig_error(title: str, detail: str, **technical: Any) -> DiagnosticError:
    names = ", ".join(available_rigs()) or "(none found)"
    return DiagnosticError(
        error("QL-E-RIG", title, f"{detail} Bundled rigs: {names}.", Remedy("use_cpu", "Run without a simulated rig"),
              **technical)
    )


def rig_path(name_or_path: str) -> Path:
    """Resolve a rig name (bundled) or a path to a rig JSON file."""
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix == ".json" or os.sep in name_or_path or "/" in name_or_path:
        if candidate.is_file():
            return candidate
        raise _rig_error("Simulated rig file not found", f"There is no rig file at {candidate}.", path=str(candidate))
    bundled = rigs_dir() / f"{name_or_path}.json"
    if bundled.is_file():
        return bundled
    raise _rig_error("Unknown simulated rig", f"There is no bundled rig named '{name_or_path}'.", rig=name_or_path)


class RigFormatError(ValueError):
    """A rig document that does not describe GPUs; the message names the field."""


MAX_MEMORY_MIB = 1 << 30  # 1 PiB: anything above is a typo


def _whole(where: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RigFormatError(f"{where} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        limit = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise RigFormatError(f"{where} must be {limit}, got {value}")
    return value


def _text(where: str, value: Any, allow_empty: bool = True) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise RigFormatError(f"{where} must be {'text' if allow_empty else 'non-empty text'}, got {value!r}")
    return value


def _compute_capability(where: str, value: Any) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise RigFormatError(f"{where} must be [major, minor], e.g. [6, 1], got {value!r}")
    return _whole(f"{where}[0]", value[0], 1, 99), _whole(f"{where}[1]", value[1], 0, 9)


def _device_from_json(index: int, entry: Any) -> Device:
    where = f"devices[{index}]"
    if not isinstance(entry, dict):
        raise RigFormatError(f"{where} must be an object (name, uuid, compute_capability, memory_*_mib), got {entry!r}")
    missing = [k for k in ("name", "uuid", "compute_capability", "memory_total_mib", "memory_free_mib") if k not in entry]
    if missing:
        raise RigFormatError(f"{where} lacks {', '.join(missing)}")
    total = _whole(f"{where}.memory_total_mib", entry["memory_total_mib"], 1, MAX_MEMORY_MIB)
    free = _whole(f"{where}.memory_free_mib", entry["memory_free_mib"], 0)
    if free > total:
        raise RigFormatError(f"{where}.memory_free_mib ({free}) is above its memory_total_mib ({total})")
    return Device(
        index=_whole(f"{where}.index", entry.get("index", index), 0),
        uuid=_text(f"{where}.uuid", entry["uuid"], allow_empty=False),
        name=_text(f"{where}.name", entry["name"], allow_empty=False),
        compute_capability=_compute_capability(f"{where}.compute_capability", entry["compute_capability"]),
        memory_total=total * MIB,
        memory_free=free * MIB,
        pci_bus_id=_text(f"{where}.pci_bus_id", entry.get("pci_bus_id", "")),
    )


def _devices(data: Mapping[str, Any]) -> tuple[Device, ...]:
    entries = data.get("devices", [])
    if not isinstance(entries, list):
        raise RigFormatError(f"devices must be a list of GPUs, got {entries!r}")
    devices = tuple(_device_from_json(i, entry) for i, entry in enumerate(entries))
    first_with: dict[str, dict[Any, int]] = {"uuid": {}, "index": {}}  # key -> value -> first device with it
    for i, device in enumerate(devices):
        for key, firsts in first_with.items():
            first = firsts.setdefault(getattr(device, key), i)
            if first != i:
                raise RigFormatError(f"devices[{i}].{key} {getattr(device, key)!r} repeats devices[{first}].{key}")
    return devices


def inventory_from_rig_json(data: Any, fallback_name: str) -> Inventory:
    """Build an Inventory from a parsed rig document (RigFormatError naming the bad field)."""
    if not isinstance(data, dict):
        raise RigFormatError(f"a rig file must hold a JSON object with a devices list, got {type(data).__name__}")
    devices = _devices(data)
    reason = _text("reason", data.get("reason", "")) or ("" if devices else "this simulated rig has no NVIDIA GPU")
    return Inventory(
        devices=devices,
        driver_version=_text("driver_version", data.get("driver_version", "")),
        cuda_driver_version=_text("cuda_driver_version", data.get("cuda_driver_version", "")),
        reason=reason,
        simulated=True,
        rig_name=_text("name", data.get("name", fallback_name), allow_empty=False),
    )


def load_rig(name_or_path: str) -> Inventory:
    """The simulated inventory of a rig; a bad name or file raises DiagnosticError (QL-E-RIG)."""
    try:
        path = rig_path(name_or_path)
    except OSError as exc:  # e.g. a name too long for the file system
        raise _rig_error("Simulated rig not found", f"The rig '{name_or_path}' cannot be looked up ({exc.strerror or exc}).",
                         rig=name_or_path) from None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _rig_error("Simulated rig file cannot be read", f"Reading the rig file {path} failed ({exc}).",
                         path=str(path)) from None
    try:
        return inventory_from_rig_json(parse_json_bytes(raw), path.stem)
    except RigFormatError as exc:
        raise _rig_error("Simulated rig file is not valid", f"In the rig file {path}, {exc}.", path=str(path)) from None
    except (ValueError, RecursionError) as exc:  # not UTF-8, JSONDecodeError, too many digits, too deep
        raise _rig_error("Simulated rig file is not valid",
                         f"The rig file {path} is not valid JSON ({type(exc).__name__}: {exc}).", path=str(path)) from None


def chosen_rig(flag: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The rig asked for: the CLI flag first, then QUANTLAUNCH_RIG; None for real hardware."""
    if flag:
        return flag
    env = os.environ if environ is None else environ
    return env.get(RIG_ENV_VAR) or None


def read_inventory(
    rig: str | None = None,
    environ: Mapping[str, str] | None = None,
    source: InventorySource | None = None,
) -> Inventory:
    """The inventory to plan with: a simulated rig if one is chosen, else ``source`` (NVML)."""
    name = chosen_rig(rig, environ)
    if name:
        return load_rig(name)
    return (source or nvml_inventory)()
