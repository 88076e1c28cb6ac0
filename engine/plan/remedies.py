"""Apply a diagnostic's remedy to launch settings: a pure function the launcher's buttons call.

``choose_other_file`` and ``change_port`` are not settings changes (the launcher opens a file
dialog or edits the server settings); :func:`apply_remedy` refuses them with
:class:`RemedyNotApplicable`. :data:`SETTINGS_ACTIONS` lists the actions it applies.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from engine.diagnostics import Remedy
from engine.settings import KERNEL_CHOICES, DeviceRef, LaunchSettings


class RemedyNotApplicable(ValueError):
    """The remedy is not a change of LaunchSettings (or its arguments are unusable)."""


def _ref(args: dict[str, Any]) -> DeviceRef:
    return DeviceRef(uuid=str(args.get("uuid", "")), name=str(args.get("name", "")), index=int(args.get("index", -1)))


def _same(a: DeviceRef, b: DeviceRef) -> bool:
    """Both name one device: same UUID; else (one lacks it) same name; else same index."""
    if a.uuid and b.uuid:
        return a.uuid == b.uuid
    if a.name and b.name:
        return a.name == b.name
    return a.index >= 0 and a.index == b.index


def _split_without(settings: LaunchSettings, ref: DeviceRef) -> tuple[float, ...]:
    """The tensor split once ``ref`` leaves the selection: its share dropped when the selection
    is explicit; otherwise () (automatic), as the shares can no longer be matched to devices."""
    if not settings.tensor_split or settings.selected is None or len(settings.selected) != len(settings.tensor_split):
        return ()
    kept = tuple(s for r, s in zip(settings.selected, settings.tensor_split, strict=True) if not _same(r, ref))
    return kept if any(kept) else ()


def _exclude(settings: LaunchSettings, args: dict[str, Any]) -> LaunchSettings:
    ref = _ref(args)
    selected = None if settings.selected is None else tuple(r for r in settings.selected if not _same(r, ref))
    excluded = settings.excluded if any(_same(r, ref) for r in settings.excluded) else (*settings.excluded, ref)
    return settings.with_changes(selected=selected, excluded=excluded, tensor_split=_split_without(settings, ref))


def _select(settings: LaunchSettings, args: dict[str, Any]) -> LaunchSettings:
    ref = _ref(args)
    excluded = tuple(r for r in settings.excluded if not _same(r, ref))
    selected = settings.selected
    replaced = _ref(args["replaces"]) if isinstance(args.get("replaces"), dict) else None
    if selected is not None and replaced is not None:  # "pick this one instead of the missing one"
        selected = tuple(r for r in selected if not _same(r, replaced))
    if selected is not None and not any(_same(r, ref) for r in selected):
        selected = (*selected, ref)
    same_devices = selected == settings.selected and excluded == settings.excluded
    split = settings.tensor_split if same_devices else ()  # a new device has no share: split automatically
    return settings.with_changes(selected=selected, excluded=excluded, force_cpu=False, tensor_split=split)


def _set_kernel(settings: LaunchSettings, args: dict[str, Any]) -> LaunchSettings:
    uuid, path = str(args.get("uuid", "")), str(args.get("path", ""))
    if not uuid or path not in KERNEL_CHOICES:
        raise RemedyNotApplicable(f"set_kernel needs a uuid and a path in {KERNEL_CHOICES}, got {args!r}")
    kernels = tuple((u, p) for u, p in settings.device_kernels if u != uuid) + ((uuid, path),)
    return settings.with_changes(device_kernels=kernels)


def _positive(args: dict[str, Any], action: str) -> int:
    try:
        value = int(args["n"])
    except (KeyError, TypeError, ValueError):
        raise RemedyNotApplicable(f"{action} needs a whole number 'n', got {args!r}") from None
    if value < 0:
        raise RemedyNotApplicable(f"{action} needs n ≥ 0, got {value}")
    return value


_ACTIONS: MappingProxyType[str, Callable[[LaunchSettings, dict[str, Any]], LaunchSettings]] = MappingProxyType({
    "exclude_device": _exclude,
    "select_device": _select,
    "set_kernel": _set_kernel,
    "force_mmvq": lambda s, _args: s.with_changes(kernel="mmvq"),
    "reduce_context": lambda s, a: s.with_changes(context_size=max(1, _positive(a, "reduce_context"))),
    "offload_layers": lambda s, a: s.with_changes(gpu_layers=_positive(a, "offload_layers")),
    "use_cpu": lambda s, _args: s.with_changes(force_cpu=True),
    "auto_tensor_split": lambda s, _args: s.with_changes(tensor_split=()),
})

SETTINGS_ACTIONS: tuple[str, ...] = tuple(_ACTIONS)


def apply_remedy(settings: LaunchSettings, remedy: Remedy) -> LaunchSettings:
    """The settings with ``remedy`` applied (a new object; ``settings`` is unchanged)."""
    action = _ACTIONS.get(remedy.action)
    if action is None:
        raise RemedyNotApplicable(f"remedy {remedy.action!r} is not a change of the launch settings")
    return action(settings, dict(remedy.args))
