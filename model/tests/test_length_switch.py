"""length_switch.py: one graph holding the graph form (short chunks) and the blocked form (long
chunks) of a Flowformer. Its numbers are checked through ONNX Runtime by the engine's parity test
(test/engine/parity.test.ts: the fixtures' 100-token chunk runs the blocked form); here the
structure: switch and split are inverse, weights are stored once, quantize.py keeps the switch."""
import os

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

import export
import length_switch
import quantize
from model import LM

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    d = tmp_path_factory.mktemp("forms")
    torch.manual_seed(1234)
    lm = export.graph_model(LM(export.TINY["flowformer"]))
    short, long = str(d / "short.onnx"), str(d / "long.onnx")
    export.export_onnx(lm, short)
    export.export_onnx(export.blocked_model(lm), long)
    return onnx.load(short), onnx.load(long)


def ops(m):
    return [n.op_type for n in m.graph.node]


def inits(m):
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}


def test_the_two_forms_differ(forms):
    short, long = forms
    assert ops(short) != ops(long)                      # else the switch would be pointless
    assert inits(short).keys() == inits(long).keys()    # the same weights


def test_switch_then_split_gives_back_both_forms(forms):
    short, long = forms
    m = length_switch.switch(short, long, 64)
    top = ops(m)
    assert top[-3:] == ["Shape", "LessOrEqual", "If"]
    assert length_switch.max_small(m) == 64
    # what both forms compute from the weights alone is computed once, outside the branches
    names = set(inits(m))
    for n in m.graph.node[:-3]:
        assert all(v in names or any(v in p.output for p in m.graph.node) for v in n.input)
    # every weight once, in the outer graph
    names = [t.name for t in m.graph.initializer]
    assert len(names) == len(set(names)) == len(inits(short)) + 1
    s, l, k = length_switch.split(m)
    assert k == 64
    for got, want in ((s, short), (l, long)):
        assert sorted(ops(got)) == sorted(ops(want))
        a, b = inits(got), inits(want)
        assert a.keys() == b.keys() and all(np.array_equal(a[n], b[n]) for n in a)
        assert [o.name for o in got.graph.output] == [o.name for o in want.graph.output]


def test_switch_refuses_different_contracts(forms):
    short, long = forms
    other = onnx.ModelProto()
    other.CopyFrom(long)
    other.graph.output[0].name = "something_else"
    with pytest.raises(ValueError):
        length_switch.switch(short, other, 64)


def test_quantize_keeps_the_switch_and_shares_the_int8_weights(forms):
    short, long = forms
    m = length_switch.switch(short, long, 64)
    q, done = quantize.quantize_model(m, min_elements=0, log=lambda *_: None)
    assert length_switch.find_switch(q) is not None and length_switch.max_small(q) == 64
    qs, ql, _ = length_switch.split(q)
    for part in (qs, ql):
        assert "MatMulIntegerToFloat" in ops(part)
    # the int8 weights' Transposes (constant) sit outside the If: ONNX Runtime folds them once
    # there, but would run them on every call inside a branch
    branches = [a.g for a in length_switch.find_switch(q).attribute]
    int8_names = {t.name for t in q.graph.initializer if t.data_type == onnx.TensorProto.INT8}
    for b in branches:
        assert not [n for n in b.node if n.op_type == "Transpose" and n.input[0] in int8_names]
    assert any(n.op_type == "Transpose" and n.input[0] in int8_names for n in q.graph.node)
    int8 = [t for t in q.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert int8 and not any(t.name.startswith((length_switch.SMALL + "/", length_switch.LARGE + "/")) for t in int8)
    assert len(done) > 0


def test_committed_tiny_flowformer_is_switched():
    m = onnx.load(os.path.join(ROOT, "models", "tiny-flowformer", "model.onnx"))
    assert length_switch.find_switch(m) is not None
    assert length_switch.max_small(m) == export.SHORT_CHUNK


def test_quantize_folder_writes_two_cpu_graphs_over_one_weight_file(forms, tmp_path):
    import json
    short, long = forms
    onnx.save(length_switch.switch(short, long, 64), str(tmp_path / "model.onnx"))
    (tmp_path / "manifest.json").write_text(json.dumps({"files": {"graph": "model.onnx", "tokenizer": "tokenizer.json"}}))
    quantize.quantize_folder(str(tmp_path), min_elements=0, log=lambda *_: None)
    files = json.loads((tmp_path / "manifest.json").read_text())["files"]
    assert files["graph_cpu"] == "model-int8.onnx" and files["graph_cpu_long"] == "model-int8-long.onnx"
    assert files["graph_cpu_long_min_tokens"] == 65
    data = "model-int8.onnx.data"
    for name in ("model-int8.onnx", "model-int8-long.onnx"):
        m = onnx.load(str(tmp_path / name), load_external_data=False)
        assert length_switch.find_switch(m) is None                       # no If: one form per file
        ext = [t for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
        assert ext and all({e.key: e.value for e in t.external_data}["location"] == data for t in ext)
    # the shared file holds the weights once: about the size of one form's int8 weights
    one = sum(numpy_helper.to_array(t).nbytes for t in onnx.load(str(tmp_path / "model-int8.onnx")).graph.initializer
              if t.data_type == onnx.TensorProto.INT8)
    assert os.path.getsize(tmp_path / data) < 1.5 * one + 65536
