"""ONNX Runtime against PyTorch on real text, for a model folder: its model.onnx reads a file in
chunks of mixed sizes (1 token up to max_chunk, so both forms behind its If run) with the state
carried, and PyTorch's training (blocked) form reads the same chunks; the logits at each chunk's
end, the state, importance and surprisal must agree within --tol relative (the contract's 1e-4).
The weights: the checkpoint the folder was exported from, or (without --checkpoint) the ones
recovered from the folder itself (weights_from_onnx.py: the same numbers). The runtime: Python
onnxruntime where it is installed (the GPU machine), else onnxruntime-node, the engine's own,
through ort_node.py (this machine, CI: tests/test_verify_onnx.py).

  python3 verify_onnx.py --model ../models/deltanet --text ../samples/mypy_semanal.py
  python3 verify_onnx.py --checkpoint ckpt.pt --model ../models/flowformer --text ../samples/mypy_semanal.py --runtime python
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

from export import ChunkGraph, blocked_model, load_checkpoint, load_folder
from model import LocalAttention

SIZES = [1, 7, 64, 65, 300, 1, 1, 2048, 33, 4096, 128, 1000]


def rel(a, b):
    """Largest difference relative to the reference's largest magnitude, or absolute where that is
    under 1 (the engine's tests, maxRelDiff, likewise): one token's surprisal can be 0.001 bits, and
    float32's log-softmax is off by ~1e-5 bits there, which is no error relative to what it measures."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(1.0, np.abs(b).max()))


def open_runtime(graph, runtime):
    """(session with onnxruntime's run(), tokenize(tokenizer_path, text) or None)."""
    if runtime in ("auto", "python"):
        try:
            import onnxruntime as ort
            return ort.InferenceSession(graph, providers=["CPUExecutionProvider"]), None
        except ImportError:
            if runtime == "python":
                raise
    from ort_node import NodeSession
    s = NodeSession(graph)
    return s, s.tokenize


def verify(model, text_file, tokens=20000, checkpoint=None, runtime="auto", sizes=SIZES, log=print, query_block=None):
    """The worst relative differences {logits, state, importance, surprisal} over the chunks.
    query_block: the reference's window attention in query blocks of that many tokens, not the
    window (the same numbers from less padding: the CPU reads short chunks 8x faster)."""
    manifest = json.load(open(os.path.join(model, "manifest.json")))
    lm = load_checkpoint(checkpoint)[0] if checkpoint else load_folder(model)[0]
    if manifest["training"].get("weights_stored_as") == "float16":
        lm = lm.half().float()          # the weights the graph holds
    ref = ChunkGraph(blocked_model(lm)).eval()
    if query_block:
        for m in ref.modules():
            if isinstance(m, LocalAttention) and m.cfg.window % query_block == 0:
                m.query_block = query_block
    sess, node_tokenize = open_runtime(os.path.join(model, manifest["files"]["graph"]), runtime)
    tokenizer = os.path.join(model, manifest["files"]["tokenizer"])
    text = open(text_file, encoding="utf-8").read()
    if node_tokenize:
        body = node_tokenize(tokenizer, text)
    else:
        from tokenizers import Tokenizer
        body = Tokenizer.from_file(tokenizer).encode(text, add_special_tokens=False).ids
    ids = ([manifest["special_tokens"]["fim_prefix"]] + body)[:tokens]
    state_ort = np.zeros(lm.state_size(), dtype=np.float32)
    state_pt = torch.zeros(lm.state_size())
    worst = {"logits": 0.0, "state": 0.0, "importance": 0.0, "surprisal": 0.0}
    pos, i = 0, 0
    log(f"{manifest['name']}: {len(ids)} tokens of {os.path.basename(text_file)}, chunks cycling {sizes}, "
        f"{'onnxruntime-node' if node_tokenize else 'Python onnxruntime'}")
    try:
        while pos < len(ids):
            n = min(sizes[i % len(sizes)], manifest["max_chunk"], len(ids) - pos)
            chunk = np.array(ids[pos:pos + n], dtype=np.int64)
            logits, state_ort_next, imp, sur = sess.run(None, {"tokens": chunk, "state": state_ort})
            with torch.no_grad():
                l_pt, s_pt, i_pt, u_pt = ref(torch.from_numpy(chunk), state_pt)
            first = 1 if pos == 0 else 0   # a document's first surprisal has nothing before it
            d = {"logits": rel(logits, l_pt), "state": rel(state_ort_next, s_pt), "importance": rel(imp, i_pt),
                 "surprisal": rel(sur[first:], u_pt[first:]) if n > first else 0.0}
            for k, v in d.items():
                worst[k] = max(worst[k], v)
            log(f"  tokens {pos:6d}-{pos + n:6d} (T={n:4d}): " + ", ".join(f"{k} {v:.1e}" for k, v in d.items()))
            # each side carries its own state, as the engine and PyTorch would
            state_ort, state_pt = state_ort_next, s_pt
            pos, i = pos + n, i + 1
    finally:
        # the Node bridge is a child process to end; Python onnxruntime's session has nothing to close
        getattr(sess, "close", lambda: None)()
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", help="the checkpoint the folder was exported from (default: its weights, recovered from it)")
    ap.add_argument("--model", required=True, help="model folder (manifest.json, model.onnx, tokenizer.json)")
    ap.add_argument("--text", required=True)
    ap.add_argument("--tokens", type=int, default=20000)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--query-block", type=int, help="the reference's window attention in query blocks of this size (faster on a CPU)")
    ap.add_argument("--runtime", choices=["auto", "python", "node"], default="auto",
                    help="Python onnxruntime, onnxruntime-node (ort_node.py), or the first that loads")
    a = ap.parse_args()
    worst = verify(a.model, a.text, a.tokens, a.checkpoint, a.runtime, query_block=a.query_block)
    ok = all(v < a.tol for v in worst.values())
    print("worst relative difference: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items())
          + f" -> {'within' if ok else 'NOT within'} {a.tol:g}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
