"""inspect_model on synthetic files of every quant table type, checked against gguf.GGUFReader
and against sizes computed here from gguf.GGML_QUANT_SIZES."""

from __future__ import annotations

import gguf
import pytest

from engine.model_file import inspect_model, load_metadata_array
from engine.quant.table import QUANT_TABLE
from engine.synth import write_synthetic_model
from engine.synth_spec import SynthSpec

N_EMBD, N_FF, VOCAB, N_KV_HEADS, N_HEADS = 256, 256, 260, 2, 4


def _expected_census(type_name: str) -> dict[str, tuple[int, int, int]]:
    """type -> (count, bytes, elements) for a 1-layer model, computed from the shapes by hand."""
    kv_width = N_EMBD // N_HEADS * N_KV_HEADS
    matrices = [N_EMBD * VOCAB, N_EMBD * N_EMBD, N_EMBD * kv_width, N_EMBD * kv_width, N_EMBD * N_EMBD,
                N_EMBD * N_FF, N_EMBD * N_FF, N_FF * N_EMBD, N_EMBD * VOCAB]  # embd, q k v o, gate up down, output
    norms = [N_EMBD] * 3  # attn_norm, ffn_norm, output_norm
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[type_name]]
    census: dict[str, list[int]] = {}
    for name, sizes, per_block in ((type_name, matrices, (block_elems, block_bytes)), ("F32", norms, (1, 4))):
        entry = census.setdefault(name, [0, 0, 0])
        for elements in sizes:
            entry[0] += 1
            entry[1] += elements // per_block[0] * per_block[1]
            entry[2] += elements
    return {name: tuple(values) for name, values in census.items()}


@pytest.mark.parametrize("type_name", list(QUANT_TABLE))
def test_census_of_every_type(tmp_path, type_name):
    spec = SynthSpec(n_layers=1, n_embd=N_EMBD, n_head=N_HEADS, n_head_kv=N_KV_HEADS, n_ff=N_FF,
                     vocab_size=VOCAB, weight_type=type_name)
    path = write_synthetic_model(tmp_path / f"{type_name}.gguf", spec)
    info = inspect_model(path)
    got = {e.type_name: (e.count, e.n_bytes, e.n_elements) for e in info.census}
    assert got == _expected_census(type_name)
    assert [e.n_bytes for e in info.census] == sorted((e.n_bytes for e in info.census), reverse=True)
    reference = gguf.GGUFReader(str(path))
    assert [(t.name, t.tensor_type.name, tuple(int(d) for d in t.shape), t.data_offset, int(t.n_bytes))
            for t in reference.tensors] == [
        (t.name, t.type_name, t.shape, t.offset, t.n_bytes) for t in info.tensors]


def test_hparams_tokenizer_and_metadata(tmp_path):
    spec = SynthSpec(n_layers=3, n_embd=128, n_head=8, n_head_kv=2, n_ff=384, vocab_size=300, n_ctx_train=4096,
                     rope_base=500000.0, tokenizer="llama", chat_template="{{ messages }}", file_type=27)
    info = inspect_model(write_synthetic_model(tmp_path / "m.gguf", spec))
    hp = info.hparams
    assert (hp.n_layers, hp.n_embd, hp.n_head, hp.n_head_kv, hp.head_dim, hp.n_ff) == (3, 128, 8, 2, 16, 384)
    assert (hp.n_ctx_train, hp.vocab_size, hp.rope_base, hp.rope_type) == (4096, 300, 500000.0, "normal")
    assert hp.norm_eps == pytest.approx(1e-5)
    assert (info.architecture, info.file_type, info.tokenizer_model) == ("llama", "IQ3_M", "llama")
    assert (info.bos_token_id, info.eos_token_id, info.add_bos, info.has_chat_template) == (1, 2, True, True)
    assert info.metadata["tokenizer.ggml.tokens"] == "[array of 300]"
    assert info.metadata["llama.block_count"] == 3
    reference = gguf.GGUFReader(str(tmp_path / "m.gguf")).fields["tokenizer.ggml.tokens"]
    assert load_metadata_array(tmp_path / "m.gguf", "tokenizer.ggml.tokens") == reference.contents()


def test_neox_architecture_and_defaults(tmp_path):
    spec = SynthSpec(n_layers=1, n_embd=64, n_head=4, n_head_kv=4, rope_type="neox", tied_output=True)
    info = inspect_model(write_synthetic_model(tmp_path / "q.gguf", spec))
    assert info.architecture == "qwen2" and info.hparams.rope_type == "neox"
    names = {t.name for t in info.tensors}
    assert "output.weight" not in names and "blk.0.attn_k.bias" in names


def test_file_type_guessed_when_absent(tmp_path):
    from model_file_cases import write_small_gguf

    path = write_small_gguf(tmp_path / "g.gguf", drop_keys=("general.file_type",))
    info = inspect_model(path)
    assert info.file_type == "F32 (guessed)"  # token_embd + norm F32 (768 B) outweigh Q8_0 (136 B)
    head_keys = write_small_gguf(tmp_path / "h.gguf")
    assert inspect_model(head_keys).file_type == "Q8_0"


def test_unknown_architecture_is_not_an_error(tmp_path):
    from model_file_cases import write_small_gguf

    with_keys = inspect_model(write_small_gguf(tmp_path / "x.gguf", arch="brand-new-arch"))
    assert with_keys.architecture == "brand-new-arch"
    assert (with_keys.hparams.n_layers, with_keys.hparams.n_embd, with_keys.hparams.head_dim) == (1, 32, 8)
    without = write_small_gguf(tmp_path / "y.gguf", arch="brand-new-arch", drop_keys=("brand-new-arch.block_count",))
    assert inspect_model(without).hparams is None
