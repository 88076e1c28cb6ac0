"""Launch settings: frozen dataclasses shared by the planner, profiles, the engine CLI and
the launcher. Pure data; reading and writing them lives in ``engine.profiles``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

KERNEL_CHOICES = ("auto", "mmvq", "dmmv")
MAX_TENSOR_SPLIT = 1e9  # a share above this is a typo


def tensor_split_problem(split: tuple[float, ...]) -> str | None:
    """Why ``split`` is not a usable tensor split (None when it is, or when it is empty)."""
    if not split:
        return None
    for share in split:
        if isinstance(share, bool) or not isinstance(share, int | float):
            return f"every share must be a number, got {share!r}"
        if share != share or not 0.0 <= share <= MAX_TENSOR_SPLIT:  # share != share: NaN
            return f"every share must be a number from 0 to {MAX_TENSOR_SPLIT:g}, got {share!r}"
    if not any(split):
        return "at least one share must be above 0"
    return None


@dataclass(frozen=True)
class DeviceRef:
    """A device as a profile remembers it: matched by UUID, then by name (index is a hint)."""

    uuid: str
    name: str = ""
    index: int = -1


@dataclass(frozen=True)
class LaunchSettings:
    selected: tuple[DeviceRef, ...] | None = None  # None = every usable device
    excluded: tuple[DeviceRef, ...] = ()
    exclude_legacy: bool = False  # drop cards below cc 6.1
    kernel: str = "auto"  # global override: auto | mmvq | dmmv
    device_kernels: tuple[tuple[str, str], ...] = ()  # (uuid, auto|mmvq|dmmv) per device
    context_size: int = 4096
    gpu_layers: int | None = None  # None = automatic
    force_cpu: bool = False
    # Share of the GPU layers per selected device, in selection order (the order of
    # ``selected``; inventory order when ``selected`` is None); () = split by free memory.
    tensor_split: tuple[float, ...] = ()

    def kernel_for(self, uuid: str) -> str:
        """The per-device choice if set, else the global one."""
        return dict(self.device_kernels).get(uuid, self.kernel)

    def with_changes(self, **changes) -> LaunchSettings:
        return replace(self, **changes)


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 5001
    api_key: str = ""  # empty = no key required


@dataclass(frozen=True)
class SamplerDefaults:
    max_length: int = 200
    temperature: float = 0.7
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    typical: float = 1.0
    rep_pen: float = 1.1
    rep_pen_range: int = 256
    seed: int = -1  # -1 = random


@dataclass(frozen=True)
class Profile:
    name: str = "default"
    model_path: str = ""  # "" or "demo" = the bundled demo model
    launch: LaunchSettings = field(default_factory=LaunchSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    sampler: SamplerDefaults = field(default_factory=SamplerDefaults)
