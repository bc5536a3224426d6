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
