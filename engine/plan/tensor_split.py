"""The tensor split: which device each share of ``LaunchSettings.tensor_split`` belongs to,
its checks, and the warning when a card is too small for its share.

Shares follow the selection order: share i belongs to the device ``selected[i]`` matches
(explicit selection), or to the i-th device of the resolved selection (``selected`` None).
"""

from __future__ import annotations

from dataclasses import replace

from engine.devices.inventory import Device, Inventory
from engine.diagnostics import Diagnostic
from engine.plan import catalogue
from engine.plan.selection import match_ref, resolve_selection
from engine.settings import LaunchSettings, tensor_split_problem


def share_owners(inventory: Inventory, settings: LaunchSettings) -> tuple[Device | None, ...]:
    """The device each share belongs to, in selection order (None: the ref matches no device)."""
    if settings.selected is None:
        return resolve_selection(inventory, settings).devices
    owners: list[Device | None] = []
    for ref in settings.selected:
        taken = frozenset(d.uuid for d in owners if d is not None)
        owners.append(match_ref(ref, inventory.devices, taken).device)
    return tuple(owners)


def split_diagnostics(inventory: Inventory, settings: LaunchSettings) -> list[Diagnostic]:
    """Errors for a tensor split that cannot be used: a bad share, or not one share per selected GPU."""
    split = settings.tensor_split
    if not split or settings.force_cpu or not inventory.devices:
        return []
    problem = tensor_split_problem(split)
    owners = share_owners(inventory, settings)
    if not problem and len(owners) != len(split):
        problem = f"{len(owners)} share(s), one per selected GPU in selection order"
    if not problem:
        return []
    diagnostic = catalogue.bad_setting("tensor_split", list(split), problem)
    return [replace(diagnostic, remedies=(catalogue.auto_split_remedy(),))]


def ratios_for(usable: tuple[Device, ...], inventory: Inventory, settings: LaunchSettings) -> list[float] | None:
    """The share of each usable device (in ``usable`` order); None for the automatic split, or
    when no GPU is used (CPU chosen, no GPU): the split is then not checked against the GPUs."""
    if not settings.tensor_split or not usable:
        return None
    owners = share_owners(inventory, settings)
    shares = {d.uuid: float(s) for d, s in zip(owners, settings.tensor_split, strict=True) if d is not None}
    return [shares.get(device.uuid, 0.0) for device in usable]
