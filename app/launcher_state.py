"""The launcher's single source of truth: the current profile, hardware, model and plan.

Widgets never talk to each other; they edit this state and redraw on its signals. The
plan is recomputed (a pure, fast call) after every change, so preflight is always live.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from app import engine_bridge
from engine.diagnostics import Diagnostic, Remedy, has_error
from engine.model_info import ModelInfo
from engine.settings import LaunchSettings, Profile


class LauncherState(QObject):
    profile_changed = Signal(object)  # Profile
    inventory_changed = Signal(object)  # engine_bridge.Hardware
    model_changed = Signal(object)  # ModelInfo | None
    plan_changed = Signal(object)  # engine_bridge.Preflight

    def __init__(self, profile: Profile | None = None, rig: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.rig = rig
        self.profile = profile or Profile()
        self.hardware: engine_bridge.Hardware | None = None
        self.model_info: ModelInfo | None = None
        self.model_error: Diagnostic | None = None
        self.preflight = engine_bridge.Preflight.pending()

    # --- edits ------------------------------------------------------------------------
    def set_profile(self, profile: Profile) -> None:
        self.profile = profile
        self.profile_changed.emit(profile)
        self.replan()

    def update_launch(self, **changes: Any) -> None:
        self.set_profile(replace(self.profile, launch=self.profile.launch.with_changes(**changes)))

    def set_launch(self, launch: LaunchSettings) -> None:
        self.set_profile(replace(self.profile, launch=launch))

    def set_model_path(self, path: str) -> None:
        if path != self.profile.model_path:
            self.set_profile(replace(self.profile, model_path=path))

    def set_device_selected(self, uuid: str, selected: bool) -> None:
        self.set_launch(engine_bridge.with_device_selected(self.profile.launch, self.hardware, uuid, selected))

    def set_device_kernel(self, uuid: str, kernel: str) -> None:
        kernels = dict(self.profile.launch.device_kernels)
        kernels[uuid] = kernel
        if kernel == "auto":
            kernels.pop(uuid)
        self.update_launch(device_kernels=tuple(sorted(kernels.items())))

    def apply_remedy(self, remedy: Remedy) -> None:
        self.set_profile(engine_bridge.apply_remedy(self.profile, remedy))

    # --- results from workers ---------------------------------------------------------
    def set_hardware(self, hardware: engine_bridge.Hardware) -> None:
        self.hardware = hardware
        self.inventory_changed.emit(hardware)
        self.replan()

    def set_model_info(self, info: ModelInfo | None, problem: Diagnostic | None = None) -> None:
        self.model_info = info
        self.model_error = problem
        self.model_changed.emit(info)
        self.replan()

    # --- preflight --------------------------------------------------------------------
    def replan(self) -> None:
        self.preflight = engine_bridge.preflight(self.hardware, self.profile, self.model_info, self.model_error)
        self.plan_changed.emit(self.preflight)

    def launch_blocker(self) -> str:
        """Why Launch is disabled right now, or "" when it may go."""
        if self.preflight.waiting:
            return self.preflight.waiting
        errors = [d for d in self.preflight.diagnostics if d.is_error]
        if has_error(errors):
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            return f"Fix first: {errors[0].title}{more}"
        return ""
