"""Which backend runs which layers: the bridge from a Plan to the runtime.

Pure data. ``engine.commands.serve`` (and tests) build a BackendSpec from the planner's
Plan; ``engine.model.load_model`` executes it.
"""

from __future__ import annotations

from dataclasses import dataclass

KERNEL_PATHS = ("mmvq", "mmvq-soft", "dmmv")


@dataclass(frozen=True)
class DeviceAssignment:
    device_id: int  # CUDA ordinal; two assignments may name the same device (logical split)
    path: str  # "mmvq" | "mmvq-soft" | "dmmv"
    layers: tuple[int, int]  # [start, end) of the model's blocks on this device

    def __post_init__(self):
        if self.path not in KERNEL_PATHS:
            raise ValueError(f"unknown kernel path {self.path!r}; expected one of {', '.join(KERNEL_PATHS)}")
        start, end = self.layers
        if not 0 <= start <= end:
            raise ValueError(f"bad layer range {self.layers} for device {self.device_id}")


@dataclass(frozen=True)
class BackendSpec:
    kind: str = "cpu"  # "cpu" | "cuda"
    assignments: tuple[DeviceAssignment, ...] = ()  # in layer order; empty for "cpu"
    # Layers not covered by an assignment run on the CPU (NumPy).

    @classmethod
    def cpu(cls) -> BackendSpec:
        return cls("cpu", ())

    @classmethod
    def single_gpu(cls, n_layers: int, path: str = "mmvq", device_id: int = 0) -> BackendSpec:
        return cls("cuda", (DeviceAssignment(device_id, path, (0, n_layers)),))
