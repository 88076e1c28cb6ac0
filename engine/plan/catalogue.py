"""The diagnostics catalogue: every problem the planner can report, with a stable code.

Each function builds one :class:`engine.diagnostics.Diagnostic`: a title, a plain detail
(what, why, what happens if ignored), machine-actionable remedies and technical facts.
Codes never change meaning; new problems get new codes.
"""

from __future__ import annotations

from engine.devices.inventory import MIB, Device
from engine.diagnostics import Diagnostic, Remedy, error, info, warning

# Model architectures the runtime can execute (the runtime teammate uses this tuple too).
SUPPORTED_ARCHITECTURES: tuple[str, ...] = ("llama",)

CODES = (
    "QL-I-NO-GPU", "QL-I-SIMULATED", "QL-I-CPU-CHOSEN", "QL-I-DEVICE-BY-NAME",
    "QL-W-NO-DEVICE-SELECTED", "QL-W-SOFT-DP4A", "QL-W-CONTEXT-LONG", "QL-W-PARTIAL-OFFLOAD",
    "QL-W-DEVICE-IDLE", "QL-W-TENSOR-SPLIT", "QL-E-DEVICE-UNSUPPORTED", "QL-E-DEVICE-MISSING", "QL-E-VRAM",
    "QL-E-QUANT-TYPE", "QL-E-ARCH", "QL-E-HPARAMS", "QL-E-SETTINGS", "QL-E-RIG",
)


def mib(n_bytes: int) -> str:
    return f"{n_bytes / MIB:,.0f} MiB"


def exclude_remedy(device: Device) -> Remedy:
    return Remedy("exclude_device", f"Exclude {device.name}", {"uuid": device.uuid, "name": device.name})


def select_remedy(device: Device, replaces: dict | None = None) -> Remedy:
    """Select ``device``; with ``replaces`` ({uuid, name}) it takes that missing device's place."""
    args = {"uuid": device.uuid, "name": device.name, "index": device.index}
    if replaces:
        return Remedy("select_device", f"Use {device.name} instead", {**args, "replaces": dict(replaces)})
    return Remedy("select_device", f"Add {device.name}", args)


def no_gpu(reason: str, simulated: bool) -> Diagnostic:
    where = "this simulated rig" if simulated else "this machine"
    return info(
        "QL-I-NO-GPU",
        "No NVIDIA GPU found: running on the CPU",
        f"No usable NVIDIA GPU was found on {where}: {reason or 'no reason given'}. The model will run on "
        "the CPU, which works but is much slower. Install or load the NVIDIA driver to use a GPU.",
        reason=reason,
    )


def simulated_rig(rig_name: str) -> Diagnostic:
    return info(
        "QL-I-SIMULATED",
        f"Simulated rig '{rig_name}'",
        f"These devices come from the simulated rig '{rig_name}', not from this machine's hardware. "
        "The plan shows what would happen on that rig; nothing can be launched on it.",
        rig=rig_name,
    )


def cpu_chosen() -> Diagnostic:
    return info("QL-I-CPU-CHOSEN", "CPU chosen", "The settings ask for the CPU backend: no GPU will be used.")


def no_device_selected(devices: tuple[Device, ...]) -> Diagnostic:
    names = ", ".join(d.name for d in devices)
    return warning(
        "QL-W-NO-DEVICE-SELECTED",
        "No GPU selected: the model runs on the CPU",
        f"This machine has {len(devices)} GPU(s) ({names}) but none is selected or all are excluded, "
        "so every layer runs on the CPU, which is much slower. Select a GPU to use it.",
        *(select_remedy(d) for d in devices),
        devices=[d.uuid for d in devices],
    )


def device_unsupported(device: Device, supported_archs: tuple[int, ...]) -> Diagnostic:
    oldest = min(supported_archs) if supported_archs else 0
    return error(
        "QL-E-DEVICE-UNSUPPORTED",
        f"{device.name} is not supported by this CUDA runtime",
        f"{device.name} (GPU {device.index}) has compute capability {device.cc_text}; the installed CUDA "
        f"runtime can only build code for sm_{oldest} and newer, so no kernel can run on it. "
        "Launching with it selected would fail; exclude it and the other devices carry the model.",
        exclude_remedy(device),
        uuid=device.uuid,
        compute_capability=device.cc_text,
        supported_archs=list(supported_archs),
    )


def device_missing(ref_uuid: str, ref_name: str, spare: tuple[Device, ...]) -> Diagnostic:
    label = ref_name or ref_uuid
    return error(
        "QL-E-DEVICE-MISSING",
        f"Selected GPU {label} is not in this machine",
        f"The settings select {label} (UUID {ref_uuid or 'unknown'}), but no device here has that UUID "
        "or name; the profile was probably made on another machine. Forget it or pick another GPU, "
        "otherwise the launch would not use the device you chose.",
        Remedy("exclude_device", f"Forget {label}", {"uuid": ref_uuid, "name": ref_name}),
        *(select_remedy(d, {"uuid": ref_uuid, "name": ref_name}) for d in spare),
        uuid=ref_uuid,
        name=ref_name,
    )


def device_by_name(ref_uuid: str, device: Device) -> Diagnostic:
    return info(
        "QL-I-DEVICE-BY-NAME",
        f"{device.name} matched by name",
        f"The settings name a device with UUID {ref_uuid}, which is not here; {device.name} "
        f"(GPU {device.index}, UUID {device.uuid}) has the same name and is used instead.",
        wanted_uuid=ref_uuid,
        used_uuid=device.uuid,
    )


def soft_dp4a(device: Device) -> Diagnostic:
    return warning(
        "QL-W-SOFT-DP4A",
        f"mmvq on {device.name} uses software dp4a (slower)",
        f"{device.name} has compute capability {device.cc_text}, below 6.1, so it has no native dp4a "
        "instruction. Forced mmvq still works there through a software dp4a, but it is slower than the "
        "dmmv path that would be chosen automatically.",
        Remedy("set_kernel", f"Use dmmv on {device.name}", {"uuid": device.uuid, "path": "dmmv"}),
        uuid=device.uuid,
        compute_capability=device.cc_text,
    )


def context_too_long(context: int, trained: int) -> Diagnostic:
    return warning(
        "QL-W-CONTEXT-LONG",
        f"Context {context:,} is longer than the model's trained {trained:,}",
        f"The model was trained with a context of {trained:,} tokens; {context:,} is asked for. Beyond "
        f"{trained:,} tokens the output usually degrades, and the extra KV cache costs memory.",
        Remedy("reduce_context", f"Use a context of {trained:,}", {"n": trained}),
        context=context,
        trained=trained,
    )


def _fit_remedies(fit_layers: int, fit_context: int | None, spare: tuple[Device, ...]) -> list[Remedy]:
    remedies = [Remedy("offload_layers", f"Put {fit_layers} layers on the GPU(s), the rest on the CPU", {"n": fit_layers})]
    if fit_context:
        remedies.append(Remedy("reduce_context", f"Reduce the context to {fit_context:,}", {"n": fit_context}))
    remedies.extend(select_remedy(d) for d in spare)
    return remedies


def partial_offload(n_layers: int, gpu_layers: int, fit_context: int | None, spare: tuple[Device, ...],
                    need: int, have: int) -> Diagnostic:
    cpu = n_layers - gpu_layers
    return warning(
        "QL-W-PARTIAL-OFFLOAD",
        f"The model does not fit: {cpu} of {n_layers} layers run on the CPU",
        f"The selected GPUs have room for {gpu_layers} of the model's {n_layers} layers "
        f"(about {mib(need)} needed, {mib(have)} usable); the other {cpu} run on the CPU, which is slower. "
        + (f"A context of {fit_context:,} would fit everything. " if fit_context else "")
        + ("Adding a GPU also helps." if spare else ""),
        *_fit_remedies(gpu_layers, fit_context, spare),
        n_layers=n_layers, gpu_layers=gpu_layers, need_bytes=need, usable_bytes=have,
    )


def vram_short(asked: int, fit_layers: int, fit_context: int | None, spare: tuple[Device, ...],
               need: int, have: int) -> Diagnostic:
    return error(
        "QL-E-VRAM",
        f"{asked} layers do not fit on the selected GPUs: {fit_layers} do",
        f"The settings ask for {asked} layers on the GPU, but the selected GPUs have room for only "
        f"{fit_layers} (about {mib(need)} needed, {mib(have)} usable). Loading would run out of GPU memory. "
        f"Offload {fit_layers} layers"
        + (f", reduce the context to {fit_context:,}" if fit_context else "")
        + " or add a GPU.",
        *_fit_remedies(fit_layers, fit_context, spare),
        asked=asked, fit_layers=fit_layers, need_bytes=need, usable_bytes=have,
    )


def device_idle(device: Device) -> Diagnostic:
    return warning(
        "QL-W-DEVICE-IDLE",
        f"{device.name} gets no layers",
        f"{device.name} (GPU {device.index}) is selected but has too little free memory "
        f"({mib(device.memory_free)}) for even one layer after its working buffers; it stays unused.",
        exclude_remedy(device),
        uuid=device.uuid,
        memory_free=device.memory_free,
    )


def auto_split_remedy() -> Remedy:
    return Remedy("auto_tensor_split", "Split the layers by free memory instead")


def split_text(split: tuple[float, ...] | list[float]) -> str:
    return ":".join(f"{share:g}" for share in split)


def split_not_honoured(split: tuple[float, ...], short: list[tuple[Device, int, int]]) -> Diagnostic:
    """``short``: (device, blocks it got, blocks its share asked for) for each card too small."""
    names = ", ".join(device.name for device, _, _ in short)
    facts = "; ".join(f"{d.name} has room for {got} of the {asked} layers its share asks for" for d, got, asked in short)
    return warning(
        "QL-W-TENSOR-SPLIT",
        f"Tensor split {split_text(split)} cannot be honoured: {names} too small",
        f"The tensor split {split_text(split)} gives each selected GPU a share of the layers, but {facts} "
        "(after its working buffers). Those layers go to the other GPUs with a share, or to the CPU if they "
        "are full too. Lower that card's share, or split by free memory.",
        auto_split_remedy(),
        tensor_split=list(split),
        short=[{"uuid": d.uuid, "layers": got, "share_layers": asked} for d, got, asked in short],
    )


def unknown_quant_types(type_labels: tuple[str, ...], tensor_names: tuple[str, ...]) -> Diagnostic:
    listed = ", ".join(type_labels)
    examples = ", ".join(tensor_names[:3])
    return error(
        "QL-E-QUANT-TYPE",
        f"Unknown tensor type in the model file: {listed}",
        f"The file stores tensors (e.g. {examples}) in type {listed}, which this version of QuantLaunch "
        "does not know, so those weights cannot be read. Choose a file in another quantization, "
        "or update QuantLaunch.",
        Remedy("choose_other_file", "Choose another model file"),
        types=list(type_labels),
        tensors=list(tensor_names[:20]),
    )


def unsupported_architecture(architecture: str) -> Diagnostic:
    supported = ", ".join(SUPPORTED_ARCHITECTURES)
    return error(
        "QL-E-ARCH",
        f"Model architecture '{architecture}' is not supported",
        f"The file's architecture is '{architecture}'; this version runs only {supported}-family models, "
        "so it cannot compute this model. Choose a model of a supported architecture.",
        Remedy("choose_other_file", "Choose another model file"),
        architecture=architecture,
        supported=list(SUPPORTED_ARCHITECTURES),
    )


def missing_hparams(architecture: str) -> Diagnostic:
    return error(
        "QL-E-HPARAMS",
        "The model file lacks its shape parameters",
        f"The file says its architecture is '{architecture}' but lacks keys such as "
        f"{architecture}.block_count or {architecture}.embedding_length, so its shape is unknown and it "
        "cannot be loaded. The file is probably damaged or incomplete.",
        Remedy("choose_other_file", "Choose another model file"),
        architecture=architecture,
    )


def bad_setting(field_name: str, value: object, expected: str) -> Diagnostic:
    return error(
        "QL-E-SETTINGS",
        f"Invalid setting {field_name}: {value!r}",
        f"The setting {field_name} is {value!r}; expected {expected}. Nothing can be planned with it.",
        field=field_name,
        value=repr(value),
    )
