"""The planner's result: frozen data, with a JSON form for the protocol and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.devices.badges import Badge
from engine.diagnostics import Diagnostic, has_error


@dataclass(frozen=True)
class MemoryEstimate:
    weights: int = 0  # bytes of the layer (and output) tensors placed on the device
    kv_cache: int = 0  # bytes: 2 (K, V) * layers * context * n_head_kv * head_dim * 2 (f16)
    scratch: int = 0  # bytes: CUDA context, dequant buffer, activations (0 when unused)
    free: int = 0  # bytes free on the device before loading

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.scratch

    def to_dict(self) -> dict[str, int]:
        return {
            "weights": self.weights,
            "kv_cache": self.kv_cache,
            "scratch": self.scratch,
            "total": self.total,
            "free": self.free,
        }


@dataclass(frozen=True)
class DevicePlan:
    index: int
    uuid: str
    name: str
    compute_capability: tuple[int, int]
    selected: bool
    path: str | None  # "mmvq" | "mmvq-soft" | "dmmv"; None when the device is not used
    layers: tuple[int, int] | None  # [start, end) of the model's blocks; None when unused
    memory: MemoryEstimate
    badges: tuple[Badge, ...]
    compile_arch: int | None = None  # NVRTC arch to build for (e.g. 61); None if unsupported
    holds_output: bool = False  # the output head (and norm) lives here

    @property
    def n_layers(self) -> int:
        return 0 if self.layers is None else self.layers[1] - self.layers[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "uuid": self.uuid,
            "name": self.name,
            "compute_capability": list(self.compute_capability),
            "selected": self.selected,
            "path": self.path,
            "layers": list(self.layers) if self.layers else None,
            "memory": self.memory.to_dict(),
            "badges": [{"key": b.key, "label": b.label, "explanation": b.explanation} for b in self.badges],
            "compile_arch": self.compile_arch,
            "holds_output": self.holds_output,
        }


@dataclass(frozen=True)
class Plan:
    devices: tuple[DevicePlan, ...]
    cpu_layers: int  # number of blocks computed on the CPU: blocks [0, cpu_layers)
    n_layers: int  # blocks in the model (0 when unknown)
    backend: str  # "cuda" when any layer is on a GPU, else "cpu"
    context_size: int
    diagnostics: tuple[Diagnostic, ...]
    simulated: bool = False
    rig_name: str = ""
    model_name: str = ""
    file_type: str = ""

    @property
    def ok(self) -> bool:
        """True when no error-level diagnostic remains."""
        return not has_error(self.diagnostics)

    @property
    def used_devices(self) -> tuple[DevicePlan, ...]:
        return tuple(d for d in self.devices if d.layers is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "backend": self.backend,
            "simulated": self.simulated,
            "rig_name": self.rig_name,
            "model": self.model_name,
            "file_type": self.file_type,
            "n_layers": self.n_layers,
            "cpu_layers": self.cpu_layers,
            "context_size": self.context_size,
            "devices": [d.to_dict() for d in self.devices],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }
