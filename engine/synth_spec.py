"""The shape of a synthetic llama-family model: a frozen spec, checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

from engine.diagnostics import DiagnosticError, error
from engine.quant.table import QUANT_TABLE, UnknownQuantType, by_name
from engine.synth_vocab import min_vocab_size

SPEC_ERROR = "QL-E-SYNTH-SPEC"
MATRIX_ROLES = ("token_embd", "output", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")
TOKENIZERS = ("gpt2", "llama")
ARCH_FOR_ROPE = {"normal": "llama", "neox": "qwen2"}  # qwen2 = llama layout + q/k/v biases, NeoX rope
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def spec_error(detail: str, **technical) -> DiagnosticError:
    return DiagnosticError(error(SPEC_ERROR, "Invalid synthetic model shape", detail, **technical))


@dataclass(frozen=True)
class SynthSpec:
    n_layers: int = 2
    n_embd: int = 64
    n_head: int = 4
    n_head_kv: int = 2
    n_ff: int = 128
    vocab_size: int = 512
    n_ctx_train: int = 2048
    weight_type: str = "F16"  # default for every matrix role
    type_overrides: tuple[tuple[str, str], ...] = ()  # (role, type), e.g. (("output", "Q6_K"),)
    tied_output: bool = False  # no output.weight: the output reuses token_embd
    rope_type: str = "normal"  # "normal" -> llama, "neox" -> qwen2
    rope_base: float = 10000.0
    tokenizer: str = "gpt2"  # "gpt2" (byte-level BPE) | "llama" (SentencePiece)
    chat_template: str | None = None
    file_type: int | None = None  # general.file_type; None = derived from weight_type
    norm_eps: float = 1e-5
    name: str = "synthetic"

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def n_embd_kv(self) -> int:
        return self.n_head_kv * self.head_dim

    @property
    def architecture(self) -> str:
        return ARCH_FOR_ROPE[self.rope_type]

    def type_for(self, role: str) -> str:
        return by_name(dict(self.type_overrides).get(role, self.weight_type)).name

    def row_length(self, role: str) -> tuple[int, str]:
        """(elements per row, the spec field that sets it) of a matrix role (GGUF ne0)."""
        return (self.n_ff, "n_ff") if role == "ffn_down" else (self.n_embd, "n_embd")

    def validate(self) -> None:
        """Raise QL-E-SYNTH-SPEC naming the first field that is wrong."""
        _check_counts(self)
        _check_choices(self)
        _check_types(self)


def _check_counts(spec: SynthSpec) -> None:
    for field_name in ("n_layers", "n_embd", "n_head", "n_head_kv", "n_ff", "vocab_size", "n_ctx_train"):
        value = getattr(spec, field_name)
        if not isinstance(value, int) or value < 1:
            raise spec_error(f"{field_name} must be a positive whole number, not {value!r}.", field=field_name)
    if spec.n_embd % spec.n_head or spec.head_dim % 2:
        raise spec_error(f"n_embd ({spec.n_embd}) must split into n_head ({spec.n_head}) heads of an even width.")
    if spec.n_head % spec.n_head_kv:
        raise spec_error(f"n_head ({spec.n_head}) must be a multiple of n_head_kv ({spec.n_head_kv}).")
    minimum = min_vocab_size(spec.tokenizer) if spec.tokenizer in TOKENIZERS else 1
    if spec.vocab_size < minimum:
        raise spec_error(f"vocab_size {spec.vocab_size} is too small for a {spec.tokenizer} vocabulary (minimum {minimum}).")


def _check_choices(spec: SynthSpec) -> None:
    if spec.tokenizer not in TOKENIZERS:
        raise spec_error(f"tokenizer must be one of {', '.join(TOKENIZERS)}, not {spec.tokenizer!r}.")
    if spec.rope_type not in ARCH_FOR_ROPE:
        raise spec_error(f"rope_type must be one of {', '.join(ARCH_FOR_ROPE)}, not {spec.rope_type!r}.")
    for role, _ in spec.type_overrides:
        if role not in MATRIX_ROLES:
            raise spec_error(f"unknown tensor role {role!r}; roles are {', '.join(MATRIX_ROLES)}.", role=role)


def _check_types(spec: SynthSpec) -> None:
    for role in MATRIX_ROLES:
        try:
            row = by_name(dict(spec.type_overrides).get(role, spec.weight_type))
        except UnknownQuantType:
            raise spec_error(f"unknown weight type for {role}; known types: {', '.join(QUANT_TABLE)}.", role=role) from None
        length, field_name = spec.row_length(role)
        if length % row.block_elems:
            raise spec_error(
                f"{role} rows have {field_name}={length} elements, not a multiple of the {row.block_elems}-element "
                f"blocks of {row.name}; make {field_name} a multiple of {row.block_elems} or give {role} another type.",
                role=role, field=field_name,
            )
