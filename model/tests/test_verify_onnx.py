"""The shipped models' float graphs (model.onnx, run by onnxruntime-node, the engine's runtime)
against PyTorch's training form on real text: chunks of mixed sizes with each side carrying its
own state (verify_onnx.py). The weights come from the folder itself, so this checks the graph's
arithmetic, not the export's bookkeeping; a 1% change to one weight on the PyTorch side must
fail it."""
import os

import pytest
import torch

import ort_node
import verify_onnx

SAMPLE = os.path.join(ort_node.ROOT, "samples", "mypy_semanal.py")
SHIPPED = [os.path.join(ort_node.ROOT, "models", n) for n in ("flowformer", "deltanet")]
# both forms behind the If (1 token, and up to max_chunk), chunk ends inside and across blocks
SIZES = [1, 7, 64, 65, 300, 1, 1, 33, 128]

needs_node = pytest.mark.skipif(not ort_node.available(), reason="needs node and the repo's node_modules (npm ci)")


@needs_node
@pytest.mark.parametrize("folder", SHIPPED, ids=os.path.basename)
def test_shipped_graph_equals_pytorch_on_real_text(folder):
    worst = verify_onnx.verify(folder, SAMPLE, tokens=900, runtime="node", sizes=SIZES, log=lambda *a: None, query_block=64)
    assert all(v < 1e-4 for v in worst.values()), worst


@needs_node
def test_a_changed_weight_is_caught(monkeypatch):
    folder = SHIPPED[1]
    load = verify_onnx.load_folder

    def changed(f):
        lm, training, calibration = load(f)
        with torch.no_grad():
            lm.blocks[3].mixer.qkv.weight.mul_(1.01)     # a delta-rule block's projections, 1% off
        return lm, training, calibration

    monkeypatch.setattr(verify_onnx, "load_folder", changed)
    worst = verify_onnx.verify(folder, SAMPLE, tokens=200, runtime="node", sizes=SIZES, log=lambda *a: None, query_block=64)
    assert max(worst.values()) > 1e-4, worst
