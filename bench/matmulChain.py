"""The benchmark's reference graph: a plain chain of fp32 matmuls (ReLU between) with about
the parameter count of the model under test, input [T, width], output [T, width]. Prefill
speed is reported as a ratio to it: how close the model's graph comes to dense matmul speed.

    python3 bench/matmulChain.py OUT.onnx PARAMETERS [LAYERS]

Written at bench time into a temporary folder (never committed). Prints {"width", "layers",
"parameters"} as JSON.
"""
import json
import math
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(params: int, layers: int):
    width = max(8, int(round(math.sqrt(params / layers))))
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    x = "x"
    for i in range(layers):
        w = (rng.standard_normal((width, width)) / math.sqrt(width)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        y = "y" if i == layers - 1 else f"h{i}"
        if i < layers - 1:
            nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"]))
            nodes.append(helper.make_node("Relu", [f"m{i}"], [y]))
        else:
            nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [y]))
        x = y
    graph = helper.make_graph(
        nodes, "matmul_chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["T", width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["T", width])],
        inits,
    )
    # opset 13 / IR 8: old enough for any onnx the machines have, new enough for ONNX Runtime 1.29
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model, width


def main():
    out, params = sys.argv[1], int(sys.argv[2])
    layers = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    model, width = build(params, layers)
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(json.dumps({"width": width, "layers": layers, "parameters": width * width * layers}))


if __name__ == "__main__":
    main()
