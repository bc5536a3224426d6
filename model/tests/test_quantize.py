"""model/quantize.py: the weight quantizers, and the graph rewrite on a small graph shaped like
the exporter's (float16 weights behind Cast + Transpose, a tied embedding, GELU, the surprisal
head's slice / log-softmax / gather), evaluated by a small numpy interpreter (there is no
Python onnxruntime here; the engine's tests run the real graphs through onnxruntime-node)."""
import json
import math
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP, helper, numpy_helper

import quantize as qz

V, D, H = 64, 32, 128


# ---------------------------------------------------------------- quantizers

def test_per_column_int8_within_half_a_step():
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((96, 40)) * rng.uniform(0.01, 2, size=40)).astype(np.float32)
    w[:, 3] = 0                                   # an all-zero column keeps a usable scale
    q, scale = qz.quantize_per_column_int8(w)
    assert q.dtype == np.int8 and scale.shape == (40,) and np.all(scale > 0)
    assert q.min() >= -127 and q.max() <= 127
    err = np.abs(q.astype(np.float32) * scale - w)
    assert np.all(err <= scale / 2 * (1 + 1e-6) + 1e-12)
    # each column's largest weight is represented exactly by +-127
    assert np.all(np.abs(q[:, np.abs(w).max(axis=0) > 0]).max(axis=0) == 127)


@pytest.mark.parametrize("bits,symmetric", [(8, True), (4, False), (4, True)])
def test_block_quantizer_within_half_a_step(bits, symmetric):
    rng = np.random.default_rng(bits)
    w = rng.standard_normal((10, 70)).astype(np.float32)     # K not a multiple of the block
    codes, scales, zp = qz.quantize_blocks(w, bits, 32, symmetric)
    assert codes.shape == (10, 3, 32) and codes.max() < (1 << bits)
    deq = qz.dequantize_blocks(codes, scales, zp, 70)
    step = np.repeat(scales, 32, axis=1)[:, :70]
    assert np.all(np.abs(deq - w) <= step / 2 * (1 + 1e-5))


def test_pack_4bit_low_nibble_first():
    codes = np.array([[1, 2, 15, 0]], np.uint8)
    assert qz.pack_bits(codes, 4).tolist() == [[0x21, 0x0F]]


# ---------------------------------------------------------------- a small exporter-shaped graph

def c(name, value):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.array(value), name + "_v"), name=name)


def small_model(seed=0):
    rng = np.random.default_rng(seed)
    emb = (rng.standard_normal((V, D)) * 0.5).astype(np.float16)
    w1 = (rng.standard_normal((H, D)) / math.sqrt(D)).astype(np.float16)    # PyTorch [out, in]
    w2 = (rng.standard_normal((D, H)) / math.sqrt(H)).astype(np.float16)
    n = helper.make_node
    nodes = [
        n("Cast", ["emb_fp16"], ["emb"], to=TP.FLOAT), n("Cast", ["w1_fp16"], ["w1"], to=TP.FLOAT),
        n("Cast", ["w2_fp16"], ["w2"], to=TP.FLOAT),
        c("ax0", np.array([0], np.int64)), c("ax2", np.array([2], np.int64)),
        n("Unsqueeze", ["tokens", "ax0"], ["ids"]),
        n("Gather", ["emb", "ids"], ["x"], name="/embed/Gather"),
        n("Transpose", ["w1"], ["w1t"], perm=[1, 0]), n("MatMul", ["x", "w1t"], ["u"], name="/up/MatMul"),
        c("sqrt2", np.float32(math.sqrt(2))), c("one", np.float32(1)), c("half", np.float32(0.5)),
        n("Div", ["u", "sqrt2"], ["ud"]), n("Erf", ["ud"], ["ue"]), n("Add", ["ue", "one"], ["ua"]),
        n("Mul", ["u", "ua"], ["um"]), n("Mul", ["um", "half"], ["g"]),
        n("Transpose", ["w2"], ["w2t"], perm=[1, 0]), n("MatMul", ["g", "w2t"], ["y"], name="/down/MatMul"),
        n("Add", ["x", "y"], ["h0"]),
        # intra-chunk scores with the exporter's causal mask: Where(Not(Trilu(ones [T, T])), 0, S)
        n("Transpose", ["h0"], ["h0t"], perm=[0, 2, 1]), n("MatMul", ["h0", "h0t"], ["sc"]),
        n("Shape", ["tokens"], ["tshape"]), c("i0", np.array(0, np.int64)), n("Gather", ["tshape", "i0"], ["tlen"], axis=0),
        n("Unsqueeze", ["tlen", "ax0"], ["tl1"]), n("Unsqueeze", ["tlen", "ax0"], ["tl2"]),
        n("Concat", ["tl1", "tl2"], ["tt"], axis=0),
        n("ConstantOfShape", ["tt"], ["ones"], value=numpy_helper.from_array(np.array([True]), "t")),
        c("k0", np.array(0, np.int64)), n("Trilu", ["ones", "k0"], ["low"], upper=0), n("Not", ["low"], ["up"]),
        n("Cast", ["up"], ["upb"], to=TP.BOOL), c("zero", np.float32(0)), n("Where", ["upb", "zero", "sc"], ["scm"]),
        c("small", np.float32(0.01)), n("MatMul", ["scm", "h0"], ["att"]), n("Mul", ["att", "small"], ["att1"]),
        n("Add", ["h0", "att1"], ["h"]),
        n("Concat", ["prev", "h"], ["h1"], axis=1),
        n("Transpose", ["emb"], ["embt"], perm=[1, 0]), n("MatMul", ["h1", "embt"], ["z"], name="/MatMul"),
        n("Cast", ["z"], ["zc"], to=TP.FLOAT),
        c("s0", np.array([0], np.int64)), c("sm1", np.array([-1], np.int64)), c("s1", np.array([1], np.int64)),
        n("Slice", ["zc", "s0", "sm1", "s1", "s1"], ["zs"], name="/Slice_48"),
        n("LogSoftmax", ["zs"], ["lp"], axis=-1),
        n("Unsqueeze", ["ids", "ax2"], ["idx"]),
        n("GatherElements", ["lp", "idx"], ["picked"], axis=-1),
        n("Squeeze", ["picked", "ax2"], ["ps"]), n("Neg", ["ps"], ["nll"]),
        c("last", np.array(-1, np.int64)),
        n("Gather", ["zc", "last"], ["logits"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "small",
        [helper.make_tensor_value_info("tokens", TP.INT64, ["T"]), helper.make_tensor_value_info("prev", TP.FLOAT, [1, 1, D])],
        [helper.make_tensor_value_info("logits", TP.FLOAT, [1, V]), helper.make_tensor_value_info("nll", TP.FLOAT, [1, "T"])],
        [numpy_helper.from_array(emb, "emb_fp16"), numpy_helper.from_array(w1, "w1_fp16"), numpy_helper.from_array(w2, "w2_fp16")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


_erf = np.vectorize(math.erf, otypes=[np.float64])


def run(model, feeds, extra=()):
    """Evaluates the graph with numpy, float32 like ONNX Runtime's CPU kernels (not bit-exact);
    the outputs, then the values named in extra."""
    g = model.graph
    env = dict(feeds)
    env.update({i.name: numpy_helper.to_array(i) for i in g.initializer})
    attr = lambda n, k, d=None: next((helper.get_attribute_value(a) for a in n.attribute if a.name == k), d)  # noqa: E731
    f32 = lambda a: np.asarray(a, np.float32)  # noqa: E731
    for n in g.node:
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Constant":
            r = numpy_helper.to_array(n.attribute[0].t)
        elif op == "Cast":
            r = x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[attr(n, "to")])
        elif op == "Shape":
            r = np.array(x[0].shape, np.int64)
        elif op == "ConstantOfShape":
            r = np.full(tuple(int(v) for v in x[0]), numpy_helper.to_array(attr(n, "value")).reshape(-1)[0])
        elif op == "Trilu":
            k = int(x[1]) if len(x) > 1 and x[1] is not None else 0
            r = np.triu(x[0], k) if attr(n, "upper", 1) else np.tril(x[0], k)
        elif op == "Not":
            r = np.logical_not(x[0])
        elif op == "Where":
            r = np.where(x[0], x[1], x[2]).astype(np.result_type(x[1], x[2]))
        elif op == "Transpose":
            r = np.transpose(x[0], attr(n, "perm"))
        elif op == "MatMul":
            r = f32(np.matmul(x[0], x[1]))
        elif op == "Gather":
            r = np.take(x[0], x[1], axis=attr(n, "axis", 0))
        elif op == "Unsqueeze":
            r = x[0]
            for a in sorted(int(v) for v in x[1]):
                r = np.expand_dims(r, a)
        elif op == "Squeeze":
            r = np.squeeze(x[0], axis=tuple(int(v) for v in x[1]))
        elif op in ("Add", "Mul", "Div", "Max"):
            r = f32({"Add": np.add, "Mul": np.multiply, "Div": np.divide, "Max": np.maximum}[op](x[0], x[1]))
        elif op in ("Abs", "Neg", "Reciprocal", "Round"):
            r = f32({"Abs": np.abs, "Neg": np.negative, "Reciprocal": lambda a: 1 / a, "Round": np.rint}[op](x[0]))
        elif op == "Erf":
            r = f32(_erf(x[0]))
        elif op == "Gelu":
            r = f32(0.5 * x[0] * (1 + _erf(x[0] / math.sqrt(2))))
        elif op == "ReduceMax":
            r = np.max(x[0], axis=tuple(attr(n, "axes")), keepdims=bool(attr(n, "keepdims", 1)))
        elif op == "Concat":
            r = np.concatenate(x, axis=attr(n, "axis"))
        elif op == "Slice":
            sl = [slice(None)] * x[0].ndim
            for s, e, a, st in zip(x[1], x[2], x[3], x[4] if len(x) > 4 else [1] * len(x[1])):
                sl[int(a)] = slice(int(s), int(e), int(st))
            r = x[0][tuple(sl)]
        elif op == "LogSoftmax":
            a = x[0].astype(np.float64)
            m = a.max(axis=-1, keepdims=True)
            r = f32(a - m - np.log(np.exp(a - m).sum(axis=-1, keepdims=True)))
        elif op == "GatherElements":
            r = np.take_along_axis(x[0], x[1], axis=attr(n, "axis", 0))
        elif op == "Reshape":
            r = x[0].reshape(tuple(int(v) for v in x[1]))
        elif op == "Expand":
            r = x[0] * np.ones(tuple(int(v) for v in x[1]), x[0].dtype)
        elif op == "QuantizeLinear":
            axis = attr(n, "axis", 1) % x[0].ndim
            shape = [1] * x[0].ndim
            shape[axis] = -1
            zp = x[2].reshape(shape).astype(np.float32)
            lo, hi = (0, 255) if x[2].dtype == np.uint8 else (-128, 127)
            r = np.clip(np.rint(x[0] / x[1].reshape(shape)) + zp, lo, hi).astype(x[2].dtype)
        elif op == "MatMulIntegerToFloat":
            acc = np.matmul(x[0].astype(np.int64) - x[4].astype(np.int64), x[1].astype(np.int64))
            r = f32(acc.astype(np.float32) * x[2] * x[3])
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = r
    return [env[o.name] for o in g.output] + [env[k] for k in extra]


def feeds(tokens, seed=1):
    prev = np.random.default_rng(seed).standard_normal((1, 1, D)).astype(np.float32)
    return {"tokens": np.array(tokens, np.int64), "prev": prev}


TOKENS = [3, 17, 5, 63, 0, 42, 17, 8, 9, 33, 1, 2]


def test_rewrite_structure():
    qm, done = qz.quantize_model(small_model(), min_elements=0, log=lambda *_: None)
    ops = [n.op_type for n in qm.graph.node]
    inits = {i.name for i in qm.graph.initializer}
    assert len(done) == 3 and ops.count("MatMulIntegerToFloat") == 3
    assert ops.count("MatMul") == 2                              # only the two activation x activation ones
    assert ops.count("Gelu") == 1 and "Erf" not in ops
    assert "Where" not in ops and ops.count("Trilu") == 1                 # the mask went
    assert not inits & {"emb_fp16", "w1_fp16", "w2_fp16"}        # float weights gone, embedding included
    producers = {o: n for n in qm.graph.node for o in n.output}
    lsm = next(n for n in qm.graph.node if n.op_type == "LogSoftmax")
    assert producers[lsm.input[0]].op_type != "Slice"            # no T x vocab copy before it
    assert any(o.domain == qz.MS_DOMAIN for o in qm.opset_import)
    onnx.checker.check_model(qm)


def test_outputs_close_to_the_float_graph():
    m = small_model()
    qm, _ = qz.quantize_model(m, min_elements=0, log=lambda *_: None)
    logits, nll = run(m, feeds(TOKENS))
    ql, qn = run(qm, feeds(TOKENS))
    assert ql.shape == logits.shape == (1, V) and qn.shape == nll.shape == (1, len(TOKENS))
    assert np.abs(ql - logits).max() < 0.03 * np.abs(logits).max()
    assert np.abs(qn - nll).mean() < 0.05 and np.abs(qn - nll).max() < 0.2     # nats; ~1% of the values
    # and not trivially: the quantized graph's numbers do differ from the float graph's
    assert np.abs(ql - logits).max() > 0


def test_both_ways_of_making_activation_codes_agree():
    """One per-row QuantizeLinear (the reading form) and Mul/Round/Add/Cast (the decoding form)
    make the same codes but where x / s and x * (1 / s) round apart at an exact half."""
    m = small_model()
    one, _ = qz.quantize_model(m, min_elements=0, log=lambda *_: None, one_pass_codes=True)
    ops, _ = qz.quantize_model(m, min_elements=0, log=lambda *_: None, one_pass_codes=False)
    kinds = lambda q: [n.op_type for n in q.graph.node]  # noqa: E731
    assert "QuantizeLinear" in kinds(one) and "Round" not in kinds(one)
    assert "QuantizeLinear" not in kinds(ops) and "Round" in kinds(ops)
    for a, b in zip(run(one, feeds(TOKENS)), run(ops, feeds(TOKENS))):
        assert np.abs(a - b).max() <= 1e-3 * np.abs(a).max()


def test_float_rewrites_alone_are_exact():
    """The float rewrites alone (tail, GELU, causal mask): the float graph's numbers."""
    m = small_model()
    g = onnx.ModelProto()
    g.CopyFrom(m)
    assert qz.slice_after_log_softmax(g.graph, log=lambda *_: None) == 1
    assert qz.fuse_gelu(g.graph, log=lambda *_: None) == 1
    assert qz.where_to_trilu(g.graph, log=lambda *_: None) == 1
    qz.prune(g.graph)
    qz.toposort(g.graph)
    for a, b in zip(run(m, feeds(TOKENS)), run(g, feeds(TOKENS))):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("one_pass", [True, False])
def test_per_row_activations_do_not_depend_on_the_chunk(one_pass):
    """int8 (per-row activation scales): a token's surprisal is the same whatever else is in its
    chunk; int8-dynamic (one scale per tensor) does not have this property."""
    m = small_model()
    qm, _ = qz.quantize_model(m, "int8", min_elements=0, log=lambda *_: None, one_pass_codes=one_pass)
    _, full = run(qm, feeds(TOKENS))
    _, head = run(qm, feeds(TOKENS[:5]))
    assert np.array_equal(full[:, :5], head)


def test_static_head_scale():
    """A calibrated max |input| for the head (manifest calibration): its activation codes use that
    one scale (no per-row ops), the outputs stay close to the float graph's, a token's numbers
    still do not depend on its chunk, and a too-small calibration visibly saturates."""
    m = small_model()
    logits, nll, h1 = run(m, feeds(TOKENS), extra=["h1"])
    absmax = float(np.abs(h1).max())
    qm, done = qz.quantize_model(m, min_elements=0, log=lambda *_: None, static_absmax={"emb": absmax})
    assert [d["static_scale"] for d in done] == [False, False, True]
    producers = {o: n for n in qm.graph.node for o in n.output}
    head = next(n for n in qm.graph.node if n.op_type == "MatMulIntegerToFloat" and n.input[2] != "q_one")
    codes = producers[head.input[0]]
    assert codes.op_type == "QuantizeLinear" and codes.input[1] == head.input[2]
    scale = next(i for i in qm.graph.initializer if i.name == head.input[2])
    assert numpy_helper.to_array(scale).shape == () and np.isclose(numpy_helper.to_array(scale), absmax / 127)
    assert sum(n.op_type == "ReduceMax" for n in qm.graph.node) == 2      # the two other MatMuls' row scales
    ql, qn = run(qm, feeds(TOKENS))
    assert np.abs(ql - logits).max() < 0.03 * np.abs(logits).max()
    assert np.abs(qn - nll).mean() < 0.05 and np.abs(qn - nll).max() < 0.2
    assert np.array_equal(run(qm, feeds(TOKENS[:5]))[1], qn[:, :5])
    tight, _ = qz.quantize_model(m, min_elements=0, log=lambda *_: None, static_absmax={"emb": absmax / 20})
    assert np.abs(run(tight, feeds(TOKENS))[0] - logits).max() > 0.1 * np.abs(logits).max()


def test_quantize_folder_writes_graph_and_manifest(tmp_path):
    onnx.save(small_model(), str(tmp_path / "model.onnx"))
    man = {"schema_version": 1, "files": {"graph": "model.onnx", "tokenizer": "tokenizer.json"}}
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    dst, done = qz.quantize_folder(str(tmp_path), min_elements=0, log=lambda *_: None)
    assert os.path.basename(dst) == qz.DEFAULT_OUT and os.path.exists(dst) and len(done) == 3
    got = json.loads((tmp_path / "manifest.json").read_text())
    assert got["files"] == {"graph": "model.onnx", "tokenizer": "tokenizer.json", "graph_cpu": qz.DEFAULT_OUT}
    assert got["quantization"]["method"] == "int8" and got["quantization"]["matmuls"] == 3
    with pytest.raises(ValueError):
        qz.quantize_folder(str(tmp_path), out="model.onnx", log=lambda *_: None)
    with pytest.raises(ValueError):                # nothing large enough to quantize
        qz.quantize_folder(str(tmp_path), out="x.onnx", min_elements=10**9, update_manifest=False, log=lambda *_: None)


@pytest.mark.parametrize("name", ["flowformer", "deltanet"])
def test_shipped_cpu_graphs_are_current(name, tmp_path):
    """The shipped model-int8.onnx is what quantize.py makes today of the shipped weights in the
    CPU form of the graph (export.export_cpu_source; model.onnx itself is the GPU form)."""
    folder = os.path.join(os.path.dirname(__file__), "..", "..", "models", name)
    man_path = os.path.join(folder, "manifest.json")
    if not os.path.exists(man_path):
        pytest.skip(f"models/{name} is not in this checkout")
    with open(man_path) as f:
        man = json.load(f)
    out = man.get("files", {}).get("graph_cpu")
    assert out, f"models/{name}/manifest.json has no files.graph_cpu"
    import export
    lm, _, _ = export.load_folder(folder)
    source = str(tmp_path / "cpu-form.onnx")
    step, decode = export.export_cpu_source(export.graph_model(lm), source, man["training"].get("weights_stored_as") == "float16")
    float_model = onnx.load(source)
    opts = dict(method=man["quantization"]["method"], min_elements=man["quantization"]["min_elements"], log=lambda *_: None)
    long_out = man["files"].get("graph_cpu_long")
    if long_out:      # a length-switched float graph: its two forms as two CPU graphs over one weight file
        q = man["quantization"]
        qs, ql, limit, _ = qz.quantize_forms(float_model, q["method"], 32, 4, q["min_elements"], True, True, True,
                                             log=lambda *_: None, static_absmax=qz.static_absmax_of(man))
        assert man["files"]["graph_cpu_long_min_tokens"] == limit + 1
        pairs = [(qs, out), (ql, long_out)]
        assert os.path.exists(os.path.join(folder, out + ".data"))
        for source, key in ((step, "graph_cpu_step"), (decode, "graph_cpu_decode")):
            assert (source is None) == (key not in man["files"]), key
            if source:
                pairs.append((qz.quantize_step(onnx.load(source), q["method"], 32, 4, q["min_elements"], True, True, True),
                              man["files"][key]))
    else:
        pairs = [(qz.quantize_model(float_model, **opts)[0], out)]
    for qm, file in pairs:
        shipped = onnx.load(os.path.join(folder, file))    # loads the shared weight file too
        assert [n.op_type for n in qm.graph.node] == [n.op_type for n in shipped.graph.node]
        a = {i.name: numpy_helper.to_array(i) for i in qm.graph.initializer}
        b = {i.name: numpy_helper.to_array(i) for i in shipped.graph.initializer}
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
