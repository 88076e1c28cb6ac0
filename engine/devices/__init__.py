"""GPU devices: inventory (NVML or a simulated rig) and capability badges. GPU-free code."""

from engine.devices.badges import (
    Badge,
    badges_for,
    compile_arch,
    is_runtime_supported,
    runtime_supported_archs,
)
from engine.devices.inventory import Device, Inventory, nvml_inventory
from engine.devices.rigs import available_rigs, load_rig, read_inventory

__all__ = [
    "Badge",
    "Device",
    "Inventory",
    "available_rigs",
    "badges_for",
    "compile_arch",
    "is_runtime_supported",
    "load_rig",
    "nvml_inventory",
    "read_inventory",
    "runtime_supported_archs",
]
