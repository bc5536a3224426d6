"""The exporter against the contract, and the committed tiny models against a fresh export."""
import base64
import json
import math
import os

import numpy as np
import onnx
import pytest

import export

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def committed(name):
    d = os.path.join(ROOT, "models", name)
    with open(os.path.join(d, "manifest.json")) as f:
        return d, json.load(f)


@pytest.mark.parametrize("name", ["tiny-flowformer", "tiny-deltanet"])
def test_manifest_follows_contract(name):
    contract = export.load_contract()
    d, man = committed(name)
    assert man["schema_version"] == contract["schema_version"]
    assert list(man["inputs"]) == list(contract["inputs"]) and list(man["outputs"]) == list(contract["outputs"])
    off = 0
    for t in man["state"]["tensors"]:
        assert t["offset"] == off and t["dtype"] == "float32"
        off += math.prod(t["shape"])
    assert off == man["state"]["size"]
    with open(os.path.join(d, "tokenizer.json")) as f:
        added = {t["content"]: t["id"] for t in json.load(f)["added_tokens"]}
    for role, text in contract["special_tokens"].items():
        assert man["special_tokens"][role] == added[text]
    g = onnx.load(os.path.join(d, "model.onnx")).graph
    assert [i.name for i in g.input] == list(contract["inputs"])
    assert [o.name for o in g.output] == list(contract["outputs"])


@pytest.mark.parametrize("arch", ["flowformer", "deltanet"])
def test_fresh_export_reproduces_committed_fixture(arch, tmp_path):
    """The committed fixture (the engine's parity reference) comes from this exporter."""
    import torch
    from model import LM
    torch.manual_seed(1234)
    lm = LM(export.TINY[arch]).half().float()   # the tiny models ship with float16 weights (--fp16-weights)
    out = tmp_path / "fixture.json"
    export.parity_fixture(lm, str(out))
    fresh = json.load(open(out))["steps"]
    with open(os.path.join(ROOT, "test", "fixtures", f"tiny-{arch}.json")) as f:
        ref = json.load(f)["steps"]
    dec = lambda s: np.frombuffer(base64.b64decode(s), dtype="<f4")
    for a, b in zip(fresh, ref):
        assert a["tokens"] == b["tokens"]
        np.testing.assert_allclose(dec(a["logits"]), dec(b["logits"]), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(dec(a["state_out"]), dec(b["state_out"]), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a["surprisal"], b["surprisal"], rtol=1e-5)


@pytest.mark.parametrize("gpu", [False, True], ids=["plain-sums", "blocked-sums"])
@pytest.mark.parametrize("extra", [{}, {"window": 32, "local_kv_heads": 1}], ids=["window-8", "window-32-shared-kv"])
def test_reading_form_computes_the_blocked_form(extra, gpu):
    """export.reading_form (the long graphs' form: grouped Conv, small query blocks for a long
    window; model.onnx's also blocked running sums) gives the blocked form's outputs, chunk by
    chunk with the state carried."""
    import torch
    from model import LM, Config
    torch.manual_seed(5)
    cfg = Config.from_dict(dict(Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, block_size=8,
                                       local_layers=(1,), window=8).to_dict(), **extra))
    lm = LM(cfg).eval()
    reading = export.reading_form(export.blocked_model(lm), gpu)
    if cfg.window > cfg.block_size:
        assert reading.blocks[1].mixer.query_block == cfg.block_size
    tokens = torch.randint(0, 97, (2, 90))
    with torch.no_grad():
        sa, sb = lm.init_state(2), reading.init_state(2)
        for a, b in ((0, 1), (1, 40), (40, 41), (41, 90)):
            la, sa, ia, ua = lm.score_chunk(tokens[:, a:b], sa)
            lb, sb, ib, ub = reading.score_chunk(tokens[:, a:b], sb)
            pairs = [(la, lb), (ia, ib), (ua, ub)] + [(sa[k], sb[k]) for k in sa]
            for x, y in pairs:
                assert (x - y).abs().max() <= 1e-5 * (1 + x.abs().max())


@pytest.mark.parametrize("arch", ["flowformer", "deltanet"])
def test_weights_recovered_from_exported_folder(arch, tmp_path):
    """weights_from_onnx.py gives back the exported (float16-stored) weights exactly, under the
    names train.py --init and export.py --checkpoint load, and refuses a config that does not fit."""
    import torch
    from model import LM
    import weights_from_onnx
    torch.manual_seed(7)
    lm = LM(export.TINY[arch])
    with torch.no_grad():   # as after training: no two parameters equal (the exporter merges equal ones)
        for p in lm.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    folder = tmp_path / "m"
    export.write_model_folder(lm, str(folder), "m", {"tokens": 123}, None, fp16_weights=True)
    config, weights, training = weights_from_onnx.recover(str(folder))
    expected = {k: v.half().float() for k, v in lm.state_dict().items()}
    assert set(weights) == set(expected)
    for k in expected:
        assert torch.equal(weights[k].float(), expected[k]), k
    assert training["tokens"] == 123
    torch.save({"config": config, "training": training, "model": weights}, tmp_path / "w.pt")
    again, _ = export.load_checkpoint(str(tmp_path / "w.pt"))
    tokens = torch.randint(0, export.TINY[arch].vocab_size, (1, 70))
    with torch.no_grad():
        torch.testing.assert_close(again(tokens)[0], lm.half().float()(tokens)[0])
    man = json.load(open(folder / "manifest.json"))
    man["config"]["mlp_mult"] *= 2
    json.dump(man, open(folder / "manifest.json", "w"))
    with pytest.raises(ValueError, match="up.weight"):
        weights_from_onnx.recover(str(folder))


@pytest.mark.parametrize("gpu", [False, True], ids=["cpu-graph", "model.onnx"])
def test_gpu_reading_form_never_sums_a_long_prefix(monkeypatch, gpu):
    """ONNX Runtime's CUDA CumSum adds each output's whole prefix (quadratic in its length), so
    model.onnx's reading form (what the CUDA provider runs) only ever takes short cumsums: at most
    max(block, T / block) steps for a T-token chunk. The CPU graphs' form keeps the T-long ones
    (linear on the CPU, and faster there)."""
    import math
    import torch
    from model import LM, Config
    torch.manual_seed(5)
    cfg = Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=16,
                 local_layers=(1,), window=32)
    lm = export.reading_form(export.blocked_model(LM(cfg)), gpu)
    lengths, real = [], torch.Tensor.cumsum

    def recording(x, dim, *a, **k):
        lengths.append(x.shape[dim])
        return real(x, dim, *a, **k)
    monkeypatch.setattr(torch.Tensor, "cumsum", recording)
    T = 3000
    with torch.no_grad():
        lm.score_chunk(torch.randint(0, 97, (1, T)), lm.init_state(1))
    assert lengths
    if gpu:
        assert max(lengths) <= max(cfg.block_size, math.ceil(T / cfg.block_size)), max(lengths)
    else:
        assert max(lengths) == T


def test_gpu_run_limit_keeps_the_head_under_int32_indexing():
    """max_chunk_gpu: the longest T whose (T + 1) x vocab logits ONNX Runtime's CUDA kernels can
    index with 32-bit ints (T = 131,072 with 16,384 tokens crashed on the H200), a power of two."""
    from model import Config
    flow = Config(arch="flowformer", vocab_size=16384)
    assert export.max_chunk_gpu(flow) == 65536
    for vocab in (97, 16384, 50000, 2 ** 20):
        T = export.max_chunk_gpu(Config(arch="flowformer", vocab_size=vocab))
        assert T >= export.FLOW_MAX_CHUNK and T & (T - 1) == 0
        assert T == export.FLOW_MAX_CHUNK or (T + 1) * vocab < 2 ** 31 <= (2 * T + 1) * vocab
    delta = Config(arch="deltanet")
    assert export.max_chunk_gpu(delta) == export.max_chunk(delta)


def test_float_step_graph_shares_the_float_weights():
    """model-step.onnx (files.graph_step) reads its weights from model.onnx.data, the float graph's
    weight file: the committed tiny Flowformer has it, and no large tensor is stored twice."""
    from onnx import TensorProto
    d, man = committed("tiny-flowformer")
    assert man["files"]["graph_step"] == "model-step.onnx"
    main = onnx.load(os.path.join(d, "model.onnx"), load_external_data=False).graph
    step = onnx.load(os.path.join(d, "model-step.onnx"), load_external_data=False).graph
    external = lambda g: {t.name for t in g.initializer if t.data_location == TensorProto.EXTERNAL}  # noqa: E731
    inline_bytes = sum(len(t.raw_data) for t in step.initializer if t.data_location != TensorProto.EXTERNAL)
    assert external(step) and external(step) <= external(main)
    assert inline_bytes < 64 * 1024, inline_bytes
    assert [i.name for i in step.input] == ["tokens", "state"]
    assert [dim.dim_value for dim in step.input[0].type.tensor_type.shape.dim] == [1]
    locations = {e.value for t in step.initializer if t.data_location == TensorProto.EXTERNAL
                 for e in t.external_data if e.key == "location"}
    assert locations == {"model.onnx.data"}


def test_calibration_absmax_is_the_head_input_as_the_engine_reads_it():
    """head_input_absmax (the int8 head's static scale) reads the calibration text in the blocked
    form, chunk after chunk: the largest |final-norm output| the exported graph form also gives
    when it reads the same tokens one chunk at a time with its state carried."""
    import torch
    from model import LM, Config
    torch.manual_seed(7)
    cfg = Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, block_size=8,
                 local_layers=(1,), window=8)
    lm = export.graph_model(LM(cfg).eval())
    tokens = torch.randint(0, 97, (2300,)).tolist()          # crosses the 2,048-token calibration chunk
    top, state = 0.0, None
    with torch.no_grad():
        for a in range(0, len(tokens), 500):
            h, state, _ = lm.hidden(torch.tensor(tokens[a:a + 500]).unsqueeze(0), state)
            top = max(top, float(h.abs().max()))
    assert export.head_input_absmax(lm, tokens) == pytest.approx(top, rel=1e-5)
