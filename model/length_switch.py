"""One ONNX graph with two forms of the same model, chosen by the chunk length T at run time.

The exporter has two forms of a Flowformer with identical arithmetic (model.Config.graph_form):
  * the graph form: Flow-Attention's chunk as one unpadded block (T x T scores) and direct
    sliding-window attention: a single token costs one row, so it is the decoding form, but its
    cost grows as T^2 (slower than the blocked form from T = 256 on a 2-core CPU);
  * the blocked form (the training form): 64-token blocks, padded, O(T x 64): the reading form
    (1.8x the graph form's tokens/s at T = 1024 on the CPU, int8), whose padding makes a single
    token cost a whole block.
switch(small, large, max_small) puts both into one model: If(T <= max_small, small, large). The
two branches read the same weights (initializers of the outer graph, stored once) and the same
inputs and give the same outputs, so the model contract does not change.
split(model) undoes it (to rewrite each branch on its own, e.g. quantize.py).
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

SMALL, LARGE = "short", "long"


def _same_tensor(a, b):
    return a.data_type == b.data_type and list(a.dims) == list(b.dims) and \
        (numpy_helper.to_array(a) == numpy_helper.to_array(b)).all()


def _constant_nodes(g, init_names):
    """Nodes of g computed from initializers alone (e.g. the Transpose of an int8 weight): ONNX
    Runtime folds them once in the main graph but runs them on every call inside an If branch
    (measured: +3 ms per run for the DeltaNet's int8 graph), so switch() hoists them."""
    known, out = set(init_names), set()
    for i, n in enumerate(g.node):
        if n.input and all((not v) or v in known for v in n.input) and \
                not any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in n.attribute):
            out.add(i)
            known.update(n.output)
    return out    # indices (protobuf message wrappers have no stable identity)


def _branch(g, prefix, outer_names, rename_inits, skip=()):
    """The nodes of graph g as an If branch: every value it makes is prefixed (no clash with the
    other branch or the outer scope); graph inputs and shared initializers keep their names."""
    def name(v):
        if not v:
            return v
        if v in rename_inits:
            return rename_inits[v]
        return v if v in outer_names else f"{prefix}/{v}"
    nodes = []
    for i, n in enumerate(g.node):
        if i in skip:
            continue
        m = onnx.NodeProto()
        m.CopyFrom(n)
        del m.input[:]
        del m.output[:]
        m.input.extend(name(v) for v in n.input)
        m.output.extend(name(v) for v in n.output)
        m.name = f"{prefix}/{n.name}" if n.name else ""
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in n.attribute):
            raise ValueError(f"{n.name}: nested subgraphs are not supported")
        nodes.append(m)
    outputs = []
    for o in g.output:
        vi = onnx.ValueInfoProto()
        vi.CopyFrom(o)
        vi.name = name(o.name)
        outputs.append(vi)
    return helper.make_graph(nodes, prefix, [], outputs)


def switch(small, large, max_small):
    """A model that runs `small` for chunks of at most max_small tokens and `large` above."""
    gs, gl = small.graph, large.graph
    if [i.name for i in gs.input] != [i.name for i in gl.input] or [o.name for o in gs.output] != [o.name for o in gl.output]:
        raise ValueError("the two forms must have the same inputs and outputs")
    tokens = gs.input[0].name
    inits, renamed = {}, ({}, {})
    for which, g in enumerate((gs, gl)):
        for t in g.initializer:
            if t.name in inits and not _same_tensor(inits[t.name], t):
                new = f"{(SMALL, LARGE)[which]}/{t.name}"
                renamed[which][t.name] = new
                c = onnx.TensorProto()
                c.CopyFrom(t)
                c.name = new
                inits[new] = c
            elif t.name not in inits:
                inits[t.name] = t
    # constant subexpressions of both forms go to the outer graph, once (where both forms define
    # a name alike); a node stays in its branch if the other form defines its output otherwise,
    # and so does everything computed from it
    producers = {}    # value name -> how each form makes it (a constant node's bytes, or None)
    for g in (gs, gl):
        const = _constant_nodes(g, set(inits))
        for i, n in enumerate(g.node):
            for v in n.output:
                producers.setdefault(v, set()).add(n.SerializeToString() if i in const else None)
    hoisted, skip = {}, [set(), set()]
    for which, g in enumerate((gs, gl)):
        if renamed[which]:
            continue     # a form with weights of its own: keep its nodes where they are
        known = set(inits) | {o for n in hoisted.values() for o in n.output}
        for i, n in enumerate(g.node):
            code = n.SerializeToString()
            if any(producers.get(v) != {code} for v in n.output) or not all((not v) or v in known for v in n.input):
                continue
            hoisted.setdefault(tuple(n.output), n)
            skip[which].add(i)
            known.update(n.output)
    outer = {i.name for i in gs.input} | set(inits) | {o for n in hoisted.values() for o in n.output}
    then_g = _branch(gs, SMALL, outer, renamed[0], skip[0])
    else_g = _branch(gl, LARGE, outer, renamed[1], skip[1])
    nodes = list(hoisted.values()) + [
        helper.make_node("Shape", [tokens], ["switch/T"], name="switch/T"),
        helper.make_node("LessOrEqual", ["switch/T", "switch/max_small"], ["switch/is_short"], name="switch/is_short"),
        helper.make_node("If", ["switch/is_short"], [o.name for o in gs.output], name="switch/by_length",
                         then_branch=then_g, else_branch=else_g),
    ]
    limit = numpy_helper.from_array(np.array([max_small], dtype=np.int64), "switch/max_small")
    graph = helper.make_graph(nodes, gs.name or "model", list(gs.input), list(gs.output), list(inits.values()) + [limit])
    opsets = {}
    for m in (small, large):
        for o in m.opset_import:
            opsets[o.domain] = max(opsets.get(o.domain, 0), o.version)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                              producer_name=small.producer_name or "flowstate")
    model.ir_version = max(small.ir_version, large.ir_version)
    onnx.checker.check_model(model)
    return model


def find_switch(model):
    """The If node a switch() model routes through, or None."""
    for n in model.graph.node:
        if n.op_type == "If" and n.name == "switch/by_length":
            return n
    return None


def max_small(model):
    for t in model.graph.initializer:
        if t.name == "switch/max_small":
            return int(numpy_helper.to_array(t).reshape(-1)[0])
    raise ValueError("not a switch() model")


def split(model):
    """(small, large, max_small) from a switch() model: each a standalone model with the outer
    graph's other nodes (e.g. float16 -> float32 Casts of the weights) and the initializers."""
    sw = find_switch(model)
    if sw is None:
        raise ValueError("not a switch() model")
    g = model.graph
    outer_nodes = [n for n in g.node if not n.name.startswith("switch/")]
    parts = []
    for attr, prefix in (("then_branch", SMALL), ("else_branch", LARGE)):
        branch = next(a.g for a in sw.attribute if a.name == attr)
        nodes = list(outer_nodes) + list(branch.node)
        # the branch's outputs carry the prefix: name them as the graph's outputs again
        rename = {bo.name: go.name for bo, go in zip(branch.output, g.output)}
        fixed = []
        for n in nodes:
            m = onnx.NodeProto()
            m.CopyFrom(n)
            for i, v in enumerate(m.output):
                if v in rename:
                    m.output[i] = rename[v]
            fixed.append(m)
        inits = [t for t in g.initializer if t.name != "switch/max_small"]
        sub = helper.make_graph(fixed, g.name, list(g.input), list(g.output), inits)
        m = helper.make_model(sub, opset_imports=list(model.opset_import), producer_name=model.producer_name)
        m.ir_version = model.ir_version
        from quantize import prune   # here: quantize.py imports this module
        prune(m.graph)
        parts.append(m)
    return parts[0], parts[1], max_small(model)

