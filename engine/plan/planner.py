"""The planner: a pure, deterministic function from (inventory, settings, model) to a Plan.

Per selected device (never a minimum over the box): the kernel path from the device's own
compute capability (mmvq where native dp4a exists, cc >= 6.1; dmmv below; forced mmvq
below 6.1 = "mmvq-soft"), its share of the blocks, its memory estimate, and every
diagnostic with its remedies.
"""

from __future__ import annotations

from engine.devices.badges import (
    badges_for,
    compile_arch,
    has_native_dp4a,
    is_runtime_supported,
    runtime_supported_archs,
)
from engine.devices.inventory import Device, Inventory
from engine.diagnostics import Diagnostic
from engine.model_info import ModelInfo
from engine.plan import catalogue
from engine.plan.memory import (
    MemoryPolicy,
    ModelCosts,
    device_budget,
    ideal_ratio_counts,
    largest_fitting_context,
    model_costs,
    split_for,
)
from engine.plan.selection import resolve_selection
from engine.plan.tensor_split import ratios_for, split_diagnostics
from engine.plan.types import DevicePlan, MemoryEstimate, Plan
from engine.quant.table import QUANT_TABLE
from engine.settings import KERNEL_CHOICES, LaunchSettings

MAX_CONTEXT = 1 << 21  # 2M tokens: anything above is a typo


def kernel_path(device: Device, choice: str) -> str:
    """The mat-vec path for ``device`` under a kernel choice ("auto" | "mmvq" | "dmmv")."""
    native = has_native_dp4a(device.compute_capability)
    if choice == "dmmv":
        return "dmmv"
    if choice == "mmvq":
        return "mmvq" if native else "mmvq-soft"
    return "mmvq" if native else "dmmv"


def model_diagnostics(model: ModelInfo, context: int) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if model.architecture not in catalogue.SUPPORTED_ARCHITECTURES:
        found.append(catalogue.unsupported_architecture(model.architecture))
    unknown = [t for t in model.tensors if t.type_name.upper() not in QUANT_TABLE]
    if unknown:
        labels = tuple(sorted({t.type_name for t in unknown}))
        found.append(catalogue.unknown_quant_types(labels, tuple(t.name for t in unknown)))
    if model.hparams is None:
        found.append(catalogue.missing_hparams(model.architecture))
    elif context > model.hparams.n_ctx_train > 0:
        found.append(catalogue.context_too_long(context, model.hparams.n_ctx_train))
    return found


def settings_diagnostics(settings: LaunchSettings) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    choices = " | ".join(KERNEL_CHOICES)
    if settings.kernel not in KERNEL_CHOICES:
        found.append(catalogue.bad_setting("kernel", settings.kernel, choices))
    for uuid, choice in settings.device_kernels:
        if choice not in KERNEL_CHOICES:
            found.append(catalogue.bad_setting(f"device_kernels[{uuid}]", choice, choices))
    if not 1 <= settings.context_size <= MAX_CONTEXT:
        found.append(catalogue.bad_setting("context_size", settings.context_size, f"1 to {MAX_CONTEXT}"))
    if settings.gpu_layers is not None and settings.gpu_layers < 0:
        found.append(catalogue.bad_setting("gpu_layers", settings.gpu_layers, "a number ≥ 0, or automatic"))
    return found


def _selected_devices(inventory: Inventory, settings: LaunchSettings, diags: list[Diagnostic]) -> tuple[Device, ...]:
    if inventory.simulated:
        diags.append(catalogue.simulated_rig(inventory.rig_name))
    if settings.force_cpu:
        diags.append(catalogue.cpu_chosen())
        return ()
    if not inventory.devices:
        diags.append(catalogue.no_gpu(inventory.reason, inventory.simulated))
        return ()
    selection = resolve_selection(inventory, settings)
    diags.extend(selection.diagnostics)
    if not selection.devices and not any(d.is_error for d in selection.diagnostics):
        diags.append(catalogue.no_device_selected(inventory.devices))
    return selection.devices


def _usable(selected: tuple[Device, ...], archs: tuple[int, ...], settings: LaunchSettings,
            diags: list[Diagnostic]) -> dict[str, str]:
    """uuid -> kernel path for the selected devices the runtime supports (warnings added)."""
    paths: dict[str, str] = {}
    for device in selected:
        if not is_runtime_supported(device.compute_capability, archs):
            diags.append(catalogue.device_unsupported(device, archs))
            continue
        paths[device.uuid] = kernel_path(device, settings.kernel_for(device.uuid))
        if paths[device.uuid] == "mmvq-soft":
            diags.append(catalogue.soft_dp4a(device))
    return paths


def _fit_diagnostics(model, settings, costs: ModelCosts, usable, budgets, counts, spare, policy,
                     ratios=None) -> list[Diagnostic]:
    n_layers = costs.n_layers
    wanted = n_layers if settings.gpu_layers is None else min(settings.gpu_layers, n_layers)
    fitted = sum(counts)
    found: list[Diagnostic] = []
    if usable and fitted < wanted:
        fit_context = largest_fitting_context(model, settings.context_size, budgets, wanted, policy, ratios)
        need = sum(costs.layer_cost(i) for i in range(n_layers - wanted, n_layers)) + costs.scratch * len(usable)
        need += costs.output_bytes if wanted == n_layers else 0
        have = sum(max(b, 0) for b in budgets)
        builder = catalogue.partial_offload if settings.gpu_layers is None else catalogue.vram_short
        args = (n_layers, fitted) if settings.gpu_layers is None else (wanted, fitted)
        found.append(builder(*args, fit_context, spare, need, have))
    smallest_layer = min((costs.layer_cost(i) for i in range(n_layers)), default=0)
    for device, budget, count in zip(usable, budgets, counts, strict=True):
        if count == 0 and wanted > 0 and budget - costs.scratch < smallest_layer:
            found.append(catalogue.device_idle(device))
    return found


def _ratio_diagnostics(settings: LaunchSettings, usable, ratios, counts: list[int], wanted: int) -> list[Diagnostic]:
    """QL-W-TENSOR-SPLIT when a card got fewer blocks than its share of ``wanted`` asks for."""
    if ratios is None or not usable:
        return []
    ideal = ideal_ratio_counts(wanted, ratios)
    short = [(d, got, asked) for d, got, asked in zip(usable, counts, ideal, strict=True) if got < asked]
    return [catalogue.split_not_honoured(settings.tensor_split, short)] if short else []


def _memory(device: Device, costs: ModelCosts | None, layers: tuple[int, int] | None, holds_output: bool) -> MemoryEstimate:
    if costs is None or layers is None:
        return MemoryEstimate(free=device.memory_free)
    weights = sum(costs.layer_weights[i] for i in range(*layers))
    weights += costs.output_bytes if holds_output else 0
    kv = costs.kv_per_layer * (layers[1] - layers[0])
    return MemoryEstimate(weights=weights, kv_cache=kv, scratch=costs.scratch, free=device.memory_free)


def _place(usable: tuple[Device, ...], counts: list[int], n_layers: int) -> dict[str, tuple[int, int]]:
    """uuid -> [start, end) for devices with blocks; GPUs take the last blocks in device order."""
    placed, start = {}, n_layers - sum(counts)
    for device, count in zip(usable, counts, strict=True):
        if count:
            placed[device.uuid] = (start, start + count)
            start += count
    return placed


def _device_plans(inventory, selected, paths, placed, costs, archs, all_on_gpu) -> tuple[DevicePlan, ...]:
    last_uuid = max(placed, key=lambda uuid: placed[uuid][1]) if placed and all_on_gpu else None
    plans = []
    for device in inventory.devices:
        layers = placed.get(device.uuid)
        plans.append(
            DevicePlan(
                index=device.index,
                uuid=device.uuid,
                name=device.name,
                compute_capability=device.compute_capability,
                selected=device in selected,
                path=paths.get(device.uuid) if layers else None,
                layers=layers,
                memory=_memory(device, costs, layers, device.uuid == last_uuid),
                badges=badges_for(device, archs),
                compile_arch=compile_arch(device.compute_capability, archs),
                holds_output=device.uuid == last_uuid,
            )
        )
    return tuple(plans)


def plan(
    inventory: Inventory,
    settings: LaunchSettings,
    model: ModelInfo,
    supported_archs: tuple[int, ...] | None = None,
    policy: MemoryPolicy | None = None,
) -> Plan:
    """Plan a launch. Pure: the same inputs give the same Plan (``supported_archs`` defaults
    to what the installed NVRTC reports; pass it explicitly for full determinism)."""
    archs = runtime_supported_archs() if supported_archs is None else tuple(supported_archs)
    policy = policy or MemoryPolicy()
    diags: list[Diagnostic] = []
    selected = _selected_devices(inventory, settings, diags)
    diags.extend(model_diagnostics(model, settings.context_size))
    setting_problems = settings_diagnostics(settings) + split_diagnostics(inventory, settings)
    diags.extend(setting_problems)
    paths = _usable(selected, archs, settings, diags)
    usable = tuple(d for d in selected if d.uuid in paths)
    n_layers = model.hparams.n_layers if model.hparams else 0
    costs, placed = None, {}
    if model.hparams is not None and not setting_problems:
        costs = model_costs(model, settings.context_size, policy)
        budgets = [device_budget(d.memory_free, policy) for d in usable]
        wanted = n_layers if settings.gpu_layers is None else min(settings.gpu_layers, n_layers)
        ratios = ratios_for(usable, inventory, settings)
        counts = split_for(costs, budgets, wanted, ratios) if usable else []
        placed = _place(usable, counts, n_layers)
        spare = tuple(d for d in inventory.devices if d not in selected and is_runtime_supported(d.compute_capability, archs))
        diags.extend(_ratio_diagnostics(settings, usable, ratios, counts, wanted))
        diags.extend(_fit_diagnostics(model, settings, costs, usable, budgets, counts, spare, policy, ratios))
    gpu_layers = sum(end - start for start, end in placed.values())
    return Plan(
        devices=_device_plans(inventory, selected, paths, placed, costs, archs, gpu_layers == n_layers),
        cpu_layers=n_layers - gpu_layers,
        n_layers=n_layers,
        backend="cuda" if gpu_layers else "cpu",
        context_size=settings.context_size,
        diagnostics=tuple(diags),
        simulated=inventory.simulated,
        rig_name=inventory.rig_name,
        model_name=model.name,
        file_type=model.file_type,
    )
