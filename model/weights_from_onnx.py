"""A training checkpoint recovered from a shipped model folder (manifest.json + model.onnx), so
training can continue from the shipped weights on a machine that has nothing else (`train.py
--init`, `export.py --checkpoint`). The float graph keeps every parameter under its PyTorch name
(export.py exports without constant folding; `--fp16-weights` only appends "_fp16"), so nothing is
lost: the shipped weights are the float16 weights the training run saved.

    python3 model/weights_from_onnx.py models/flowformer /tmp/flowformer.weights.pt
"""
import argparse
import json
import os

import torch

from model import LM, Config
from quantize import FP16_SUFFIX

PREFIX = "lm."   # export.py wraps the LM in a module holding it as .lm


def recover(folder):
    """(config dict, state dict, training dict) from a model folder's manifest and float graph."""
    import onnx
    from onnx import numpy_helper
    with open(os.path.join(folder, "manifest.json")) as f:
        man = json.load(f)
    lm = LM(Config.from_dict(man["config"]))
    wanted = lm.state_dict()
    graph = onnx.load(os.path.join(folder, man.get("files", {}).get("graph", "model.onnx"))).graph
    found = {}
    for init in graph.initializer:
        name = init.name[len(PREFIX):] if init.name.startswith(PREFIX) else None
        if name is not None and name.endswith(FP16_SUFFIX) and name not in wanted:
            name = name[:-len(FP16_SUFFIX)]
        if name in wanted:
            # kept in the stored dtype (float16 for --fp16-weights): loaders convert
            found[name] = torch.from_numpy(numpy_helper.to_array(init).copy())
    missing = sorted(set(wanted) - set(found))
    if missing:
        # the ONNX exporter keeps one copy of equal initializers (e.g. untrained all-ones norms)
        raise ValueError(f"{folder}: model.onnx lacks {len(missing)} parameters, e.g. {missing[:3]} "
                         "(not exported, or merged with an equal one: a model straight from initialisation)")
    for name, w in found.items():
        if w.shape != wanted[name].shape:
            raise ValueError(f"{folder}: {name} is {tuple(w.shape)} in model.onnx, "
                             f"{tuple(wanted[name].shape)} by the manifest's config")
    return man["config"], found, dict(man.get("training", {}), recovered_from=os.path.basename(os.path.normpath(folder)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="a model folder (manifest.json, model.onnx)")
    ap.add_argument("out", help="the checkpoint to write (config, training, model)")
    a = ap.parse_args()
    config, weights, training = recover(a.folder)
    torch.save({"config": config, "training": training, "model": weights}, a.out)
    print(f"{a.out}: {len(weights)} tensors, {sum(w.numel() for w in weights.values()):,} parameters")


if __name__ == "__main__":
    main()
