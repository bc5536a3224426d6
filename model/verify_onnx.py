"""ONNX Runtime (Python) against PyTorch on real text, for a model folder and the checkpoint it was
exported from: the folder's model.onnx reads a file in chunks of mixed sizes (1 token up to
max_chunk, so both forms behind its If run) with the state carried, and PyTorch's training
(blocked) form reads the same chunks; the logits at each chunk's end, the state, importance and
surprisal must agree within --tol relative (the contract's 1e-4). Runs where Python onnxruntime
is installed (the GPU machine); CI checks the engine's own runs against committed fixtures.

  python3 verify_onnx.py --checkpoint ckpt.pt --model ../models/flowformer --text ../samples/mypy_semanal.py
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

from export import ChunkGraph, blocked_model, load_checkpoint

SIZES = [1, 7, 64, 65, 300, 1, 1, 2048, 33, 4096, 128, 1000]


def rel(a, b):
    """Largest difference relative to the reference's largest magnitude (as the engine's tests)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(1e-30, np.abs(b).max()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--model", required=True, help="model folder (manifest.json, model.onnx, tokenizer.json)")
    ap.add_argument("--text", required=True)
    ap.add_argument("--tokens", type=int, default=20000)
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    import onnxruntime as ort
    from tokenizers import Tokenizer

    manifest = json.load(open(os.path.join(a.model, "manifest.json")))
    lm, _ = load_checkpoint(a.checkpoint)
    if manifest["training"].get("weights_stored_as") == "float16":
        lm = lm.half().float()          # the weights the graph holds
    ref = ChunkGraph(blocked_model(lm)).eval()
    sess = ort.InferenceSession(os.path.join(a.model, manifest["files"]["graph"]), providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(os.path.join(a.model, manifest["files"]["tokenizer"]))
    ids = [manifest["special_tokens"]["fim_prefix"]] + tok.encode(open(a.text, encoding="utf-8").read(), add_special_tokens=False).ids
    ids = ids[:a.tokens]
    state_ort = np.zeros(lm.state_size(), dtype=np.float32)
    state_pt = torch.zeros(lm.state_size())
    worst = {"logits": 0.0, "state": 0.0, "importance": 0.0, "surprisal": 0.0}
    pos, i = 0, 0
    print(f"{manifest['name']}: {len(ids)} tokens of {os.path.basename(a.text)}, chunks cycling {SIZES}")
    while pos < len(ids):
        n = min(SIZES[i % len(SIZES)], manifest["max_chunk"], len(ids) - pos)
        chunk = np.array(ids[pos:pos + n], dtype=np.int64)
        logits, state_ort_next, imp, sur = sess.run(None, {"tokens": chunk, "state": state_ort})
        with torch.no_grad():
            l_pt, s_pt, i_pt, u_pt = ref(torch.from_numpy(chunk), state_pt)
        first = 1 if pos == 0 else 0   # a document's first surprisal has nothing before it
        d = {"logits": rel(logits, l_pt), "state": rel(state_ort_next, s_pt), "importance": rel(imp, i_pt),
             "surprisal": rel(sur[first:], u_pt[first:]) if n > first else 0.0}
        for k, v in d.items():
            worst[k] = max(worst[k], v)
        print(f"  tokens {pos:6d}-{pos + n:6d} (T={n:4d}): " + ", ".join(f"{k} {v:.1e}" for k, v in d.items()))
        # each side carries its own state, as the engine and PyTorch would
        state_ort, state_pt = state_ort_next, s_pt
        pos, i = pos + n, i + 1
    ok = all(v < a.tol for v in worst.values())
    print("worst relative difference: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items())
          + f" -> {'within' if ok else 'NOT within'} {a.tol:g}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
