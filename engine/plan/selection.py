"""Which devices the settings select: DeviceRefs matched by UUID, then by name (index as a hint).

A ref with neither UUID nor name (e.g. imported from a KoboldCpp file) matches by index.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.devices.badges import has_native_dp4a
from engine.devices.inventory import Device, Inventory
from engine.diagnostics import Diagnostic
from engine.plan import catalogue
from engine.settings import DeviceRef, LaunchSettings


@dataclass(frozen=True)
class Selection:
    devices: tuple[Device, ...]  # selected, in inventory order
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class Match:
    device: Device | None
    by_name: bool = False  # True when the UUID was given but only the name matched


def match_ref(ref: DeviceRef, devices: tuple[Device, ...], taken: frozenset[str] = frozenset()) -> Match:
    """Find the device a ref means: same UUID; else same name (prefer index == ref.index); else index."""
    if ref.uuid:
        exact = next((d for d in devices if d.uuid == ref.uuid), None)
        if exact is not None:
            return Match(exact)
    if ref.name:
        same_name = [d for d in devices if d.name == ref.name and d.uuid not in taken]
        if same_name:
            hinted = next((d for d in same_name if d.index == ref.index), same_name[0])
            return Match(hinted, by_name=bool(ref.uuid))
        return Match(None)
    if not ref.uuid and ref.index >= 0:
        return Match(next((d for d in devices if d.index == ref.index), None))
    return Match(None)


def excluded_uuids(refs: tuple[DeviceRef, ...], devices: tuple[Device, ...]) -> frozenset[str]:
    found = (match_ref(ref, devices).device for ref in refs)
    return frozenset(d.uuid for d in found if d is not None)


def _explicit(settings: LaunchSettings, devices: tuple[Device, ...], excluded: frozenset[str]):
    chosen: list[Device] = []
    diagnostics: list[Diagnostic] = []
    missing: list[DeviceRef] = []
    for ref in settings.selected or ():
        match = match_ref(ref, devices, frozenset(d.uuid for d in chosen))
        if match.device is None:
            missing.append(ref)
            continue
        if match.by_name:
            diagnostics.append(catalogue.device_by_name(ref.uuid, match.device))
        if match.device.uuid not in excluded and match.device not in chosen:
            chosen.append(match.device)
    spare = tuple(d for d in devices if d not in chosen and d.uuid not in excluded)
    for ref in missing:
        diagnostics.append(catalogue.device_missing(ref.uuid, ref.name or _index_label(ref), spare))
    return chosen, diagnostics


def _index_label(ref: DeviceRef) -> str:
    return f"GPU {ref.index}" if ref.index >= 0 else ""


def resolve_selection(inventory: Inventory, settings: LaunchSettings) -> Selection:
    devices = inventory.devices
    excluded = excluded_uuids(settings.excluded, devices)
    if settings.selected is None:
        chosen, diagnostics = [d for d in devices if d.uuid not in excluded], []
    else:
        chosen, diagnostics = _explicit(settings, devices, excluded)
    if settings.exclude_legacy:
        chosen = [d for d in chosen if has_native_dp4a(d.compute_capability)]
    ordered = tuple(d for d in devices if d in chosen)
    return Selection(ordered, tuple(diagnostics))
