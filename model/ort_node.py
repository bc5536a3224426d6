"""ONNX Runtime through onnxruntime-node (the engine's runtime) for Python scripts on machines
without Python onnxruntime (this one, CI): ort_node_bridge.js in a Node child process, spoken to
one JSON line at a time. NodeSession.run has onnxruntime.InferenceSession.run's form.

    with NodeSession("models/deltanet/model.onnx") as s:
        logits, state, importance, surprisal = s.run(None, {"tokens": ids, "state": state})
"""
import base64
import json
import os
import shutil
import subprocess

import numpy as np

BRIDGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_node_bridge.js")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def available():
    """Node and the repo's onnxruntime-node and tokenizers installed (npm ci)."""
    mods = os.path.join(ROOT, "node_modules")
    return bool(shutil.which("node")) and all(
        os.path.isdir(os.path.join(mods, p)) for p in ("onnxruntime-node", os.path.join("@huggingface", "tokenizers")))


def _encode(a):
    a = np.ascontiguousarray(a)
    return {"dtype": str(a.dtype), "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}


def _decode(o):
    return np.frombuffer(base64.b64decode(o["b64"]), dtype=o["dtype"]).reshape(o["shape"]).copy()


class NodeSession:
    def __init__(self, graph):
        self.proc = subprocess.Popen(["node", BRIDGE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        info = self._ask({"op": "open", "graph": os.path.abspath(graph)})
        self.input_names, self.output_names = info["inputs"], info["outputs"]

    def _ask(self, msg):
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Node bridge ended (exit code {self.proc.wait()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"onnxruntime-node: {reply['error']}")
        return reply

    def run(self, output_names, feeds):
        outs = {o["name"]: _decode(o) for o in self._ask({"op": "run", "feeds": {k: _encode(v) for k, v in feeds.items()}})["outputs"]}
        return [outs[n] for n in (output_names or self.output_names)]

    def tokenize(self, tokenizer, text):
        """The engine's tokenizer's ids for text (no special tokens)."""
        return self._ask({"op": "tokenize", "tokenizer": os.path.abspath(tokenizer), "text": text})["ids"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
