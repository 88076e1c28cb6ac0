"""Simulated rigs: JSON descriptions of GPU boxes that replace NVML for tests and demos.

A rig file (``resources/rigs/NAME.json``)::

    {"name": "p100", "description": "...", "driver_version": "535.183.01",
     "cuda_driver_version": "12.2", "reason": "",
     "devices": [{"name": "Tesla P100-PCIE-16GB", "uuid": "GPU-...",
                  "compute_capability": [6, 0], "memory_total_mib": 16384,
                  "memory_free_mib": 16000, "pci_bus_id": "00000000:01:00.0"}]}

A rig is chosen by name or path, through a CLI flag (``--rig``) or the environment variable
``QUANTLAUNCH_RIG``; the flag wins. The inventory it gives is marked ``simulated``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.devices.inventory import MIB, Device, Inventory, InventorySource, nvml_inventory
from engine.diagnostics import DiagnosticError, Remedy, error

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


def _device_from_json(index: int, entry: Mapping[str, Any]) -> Device:
    major, minor = entry["compute_capability"]  # [major, minor]
    return Device(
        index=int(entry.get("index", index)),
        uuid=str(entry["uuid"]),
        name=str(entry["name"]),
        compute_capability=(int(major), int(minor)),
        memory_total=int(entry["memory_total_mib"]) * MIB,
        memory_free=int(entry["memory_free_mib"]) * MIB,
        pci_bus_id=str(entry.get("pci_bus_id", "")),
    )


def inventory_from_rig_json(data: Mapping[str, Any], fallback_name: str) -> Inventory:
    """Build an Inventory from a parsed rig document (KeyError/ValueError/TypeError on bad data)."""
    devices = tuple(_device_from_json(i, entry) for i, entry in enumerate(data.get("devices", [])))
    reason = str(data.get("reason", "")) or ("" if devices else "this simulated rig has no NVIDIA GPU")
    return Inventory(
        devices=devices,
        driver_version=str(data.get("driver_version", "")),
        cuda_driver_version=str(data.get("cuda_driver_version", "")),
        reason=reason,
        simulated=True,
        rig_name=str(data.get("name", fallback_name)),
    )


def load_rig(name_or_path: str) -> Inventory:
    """The simulated inventory of a rig; a bad name or file raises DiagnosticError (QL-E-RIG)."""
    path = rig_path(name_or_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return inventory_from_rig_json(data, path.stem)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _rig_error(
            "Simulated rig file is not valid",
            f"The rig file {path} could not be read ({type(exc).__name__}: {exc}).",
            path=str(path),
        ) from None


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
