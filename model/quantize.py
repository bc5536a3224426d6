"""Weight-quantized CPU graph: rewrites a model folder's model.onnx into model-int8.onnx, whose
weight MatMuls read int8 weights, for ONNX Runtime's CPU provider (the float graph stays for
CUDA and for the PyTorch parity checks).

Only MatMuls whose second input is a constant weight are quantized: an initializer, possibly
behind a Cast (float16 storage, export.py's store_weights_fp16) and a Transpose (PyTorch's
[out, in] layout). Everything else stays float32: the recurrent-state math (cumulative sums,
divisions, exp), norms, attention, softmax.

Methods (--method):
  int8          (default) per-row symmetric int8 activations (each row's scale is max|a_row| / 127,
                computed in the graph) x int8 per-column symmetric weights, int32 accumulation
                (MatMulIntegerToFloat, com.microsoft, applies the weight scales). A token's
                result depends on its own row only, so reading a file in other chunks gives the
                same outputs (the engine's incremental == from-scratch property). The vocabulary
                head's input gets one fixed scale instead where the manifest has a calibration
                (export.py --calibration-tokens: the largest |value| it took on sample text;
                larger values saturate): no per-row ops on the widest MatMul, and still no
                dependence on other rows (--per-row-head ignores the calibration).
  int8-dynamic  ORT quantize_dynamic's pattern: DynamicQuantizeLinear (uint8 activations, one
                scale per tensor) + MatMulInteger with int8 per-column weights + scale multiply;
                ORT fuses it into DynamicQuantizeMatMul. Faster, but the activation scale is the
                whole chunk's, so results depend on how a file is split into chunks.
  nbits8/nbits4 com.microsoft MatMulNBits (block_size 32 along K, accuracy_level 4). In
                onnxruntime-node 1.29 on this CPU it is no faster than float32 for chunks
                (measured; BENCHMARKS.md), kept for comparison.

More rewrites, the same arithmetic as the float graph (--no-split-tail, --no-fuse-gelu,
--keep-float-embedding):
  * The surprisal head projects T+1 hidden rows to the vocabulary, slices rows [0, T) (a copy of
    T x vocab floats), takes their log-softmax and gathers the tokens' log-probabilities. The
    CPU graph takes the log-softmax of all T+1 rows (it is row-wise), gathers with the token
    indices padded by one, and slices the T+1 gathered values instead.
  * GELU: PyTorch's exported Div/Erf/Add/Mul/Mul becomes one com.microsoft Gelu (ONNX Runtime
    fuses it by itself in the float graph but not behind the quantized MatMul).
  * Causal masks: Where(Not(Trilu(ones)), 0, scores) becomes Trilu(scores).
  * The tied embedding: the output projection reads the int8 copy, and the input embedding's
    Gather reads rows of the same int8 table times their scales, so the float table is not
    stored twice (the folder stays under 40 MB).

  python3 model/quantize.py models/flowformer            # -> models/flowformer/model-int8.onnx, manifest files.graph_cpu
  python3 model/quantize.py models/flowformer --method int8-dynamic --out model-dq.onnx --no-manifest

Unless --no-manifest, manifest.json gets files.graph_cpu (the output's file name) and a
"quantization" note; the engine (src/engine/modelRunner.ts) runs that graph on the CPU provider.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import length_switch

FP16_SUFFIX = "_fp16"   # export.py --fp16-weights: a float16 initializer NAME_fp16 Cast to NAME

MS_DOMAIN = "com.microsoft"
METHODS = ("int8", "int8-dynamic", "nbits8", "nbits4")
DEFAULT_METHOD = "int8"
DEFAULT_OUT = "model-int8.onnx"


# ---------------------------------------------------------------- weight quantizers (numpy)

def quantize_per_column_int8(w_kn):
    """w_kn: float32 [K, N] -> (int8 [K, N], scale float32 [N]); symmetric, zero point 0,
    codes in [-127, 127]; dequantized = q * scale, within scale / 2 of w."""
    absmax = np.abs(w_kn).max(axis=0)
    scale = (absmax / 127.0).astype(np.float32)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w_kn / scale), -127, 127).astype(np.int8)
    return q, scale


def quantize_blocks(w_nk, bits, block_size, symmetric):
    """w_nk: float32 [N, K] (row n: output column n's weights along K). Returns (codes uint8
    [N, k_blocks, block_size], scales float32 [N, k_blocks], zero_points uint8 [N, k_blocks]);
    dequantized = (code - zero_point) * scale."""
    n, k = w_nk.shape
    kb = -(-k // block_size)
    w = np.pad(w_nk.astype(np.float32), ((0, 0), (0, kb * block_size - k))).reshape(n, kb, block_size)
    qmax = (1 << bits) - 1
    if symmetric:
        mid = 1 << (bits - 1)
        scale = np.abs(w).max(axis=2) / (mid - 1)
        scale[scale == 0] = 1.0
        codes = np.clip(np.rint(w / scale[..., None]) + mid, 0, qmax)
        zp = np.full((n, kb), mid, np.uint8)
    else:
        lo, hi = np.minimum(w.min(axis=2), 0.0), np.maximum(w.max(axis=2), 0.0)
        scale = (hi - lo) / qmax
        scale[scale == 0] = 1.0
        zp = np.clip(np.rint(-lo / scale), 0, qmax)
        codes = np.clip(np.rint(w / scale[..., None]) + zp[..., None], 0, qmax)
        zp = zp.astype(np.uint8)
    return codes.astype(np.uint8), scale.astype(np.float32), zp


def dequantize_blocks(codes, scales, zp, k):
    n, kb, bs = codes.shape
    return ((codes.astype(np.float32) - zp[..., None]) * scales[..., None]).reshape(n, kb * bs)[:, :k]


def pack_bits(codes, bits):
    """uint8 codes [..., L] -> bytes [..., L * bits / 8], low bits first along L."""
    if bits == 8:
        return codes.astype(np.uint8)
    return (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)


# ---------------------------------------------------------------- graph helpers

def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _const(g, name, inits, producers):
    """The value of a constant input (initializer or Constant node), else None."""
    if name in inits:
        return numpy_helper.to_array(inits[name])
    p = producers.get(name)
    if p is not None and p.op_type == "Constant" and p.attribute and p.attribute[0].name == "value":
        return numpy_helper.to_array(p.attribute[0].t)
    return None


def find_weight(name, producers, inits):
    """Follows a MatMul's B input back through Transpose([1, 0]) / Cast(to float) to a 2-D float
    initializer. Returns (initializer name, transposed) or None."""
    transposed = False
    while name not in inits:
        p = producers.get(name)
        if p is None:
            return None
        if p.op_type == "Transpose" and list(_attr(p, "perm", [1, 0])) == [1, 0] and not transposed:
            transposed = True
        elif not (p.op_type == "Cast" and _attr(p, "to") == TensorProto.FLOAT):
            return None
        name = p.input[0]
    init = inits[name]
    if len(init.dims) != 2 or init.data_type not in (TensorProto.FLOAT, TensorProto.FLOAT16):
        return None
    return name, transposed


def find_float_source(name, producers, inits):
    """An input that is an initializer, or a Cast of one to float: the initializer's name."""
    while name not in inits:
        p = producers.get(name)
        if p is None or not (p.op_type == "Cast" and _attr(p, "to") == TensorProto.FLOAT):
            return None
        name = p.input[0]
    return name


def _consumers(g):
    out = {}
    for n in g.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def toposort(g):
    """Reorders the nodes so that each comes after the producers of its inputs (stable)."""
    known = {i.name for i in g.input} | {i.name for i in g.initializer} | {""}
    pending, order = list(g.node), []
    while pending:
        rest = []
        for n in pending:
            if all(i in known for i in n.input):
                order.append(n)
                known.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise ValueError(f"graph has a cycle or a missing input near {rest[0].name}")
        pending = rest
    del g.node[:]
    g.node.extend(order)


def prune(g):
    """Drops nodes and initializers nothing reads any more (float weights, their Casts and
    Transposes, a replaced node's leftovers), keeping what the graph outputs need."""
    producers = {o: n for n in g.node for o in n.output}
    needed, stack, live = set(), [o.name for o in g.output], set()
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        p = producers.get(name)
        if p is None or id(p) in live:
            continue
        live.add(id(p))
        stack.extend(i for i in p.input if i)
        for a in p.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                stack.extend(i for n in a.g.node for i in n.input if i)
    keep = [n for n in g.node if id(n) in live]
    del g.node[:]
    g.node.extend(keep)
    inits = [i for i in g.initializer if i.name in needed]
    del g.initializer[:]
    g.initializer.extend(inits)


# ---------------------------------------------------------------- float-exact rewrites

def slice_after_log_softmax(g, log=print):
    """The surprisal head: X = MatMul(H [1, T+1, D], W) (row 0 predicts the chunk's first token
    from the state's last hidden row), then Slice(X, rows 0:-1) -> LogSoftmax -> GatherElements
    (the tokens' log-probabilities). The Slice copies T x vocab floats; LogSoftmax works row by
    row, so the CPU graph takes LogSoftmax of all T+1 rows, gathers with the token indices padded
    by one, and slices the T+1 gathered values instead: the same numbers. Returns the count."""
    inits = {i.name: i for i in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    cons = _consumers(g)
    out_names = {o.name for o in g.output}
    count = 0
    for sl in list(g.node):
        if sl.op_type != "Slice" or sl.output[0] in out_names:
            continue
        src = producers.get(sl.input[0])
        if src is not None and src.op_type == "Cast" and _attr(src, "to") == TensorProto.FLOAT:
            src = producers.get(src.input[0])
        if src is None or src.op_type != "MatMul" or find_weight(src.input[1], producers, inits) is None:
            continue
        vals = [_const(g, i, inits, producers) if i else None for i in list(sl.input[1:]) + [""] * (5 - len(sl.input))]
        starts, ends, axes, steps = vals
        if any(v is None for v in (starts, ends, axes)) or list(starts) != [0] or list(ends) != [-1] or list(axes) != [1] \
                or (steps is not None and list(steps) != [1]):
            continue
        users = cons.get(sl.output[0], [])
        if len(users) != 1 or users[0].op_type != "LogSoftmax" or _attr(users[0], "axis", -1) not in (-1, 2):
            continue
        lsm = users[0]
        gusers = cons.get(lsm.output[0], [])
        if len(gusers) != 1 or gusers[0].op_type != "GatherElements" or _attr(gusers[0], "axis", 0) not in (-1, 2) \
                or lsm.output[0] in out_names:
            continue
        ge = gusers[0]
        base = (sl.name or sl.output[0]).strip("/").replace("/", "_")
        pad = base + "_pad_index"
        g.initializer.append(numpy_helper.from_array(np.zeros((1, 1, 1), np.int64), pad))
        lsm.input[0] = sl.input[0]                                   # all T+1 rows
        picked = ge.output[0]
        g.node.extend([
            helper.make_node("Concat", [ge.input[1], pad], [base + "_indices"], axis=1, name=base + "_indices"),
            helper.make_node("Slice", [base + "_picked"] + list(sl.input[1:]), [picked], name=base + "_picked_rows"),
        ])
        ge.input[1] = base + "_indices"
        ge.output[0] = base + "_picked"
        sl.output[0] = base + "_unused"                              # pruned
        count += 1
        log(f"  {sl.name}: log-softmax of all T+1 rows, slice after the gather (no T x vocab copy)")
    return count


def fuse_gelu(g, log=print):
    """x * 0.5 * (1 + erf(x / sqrt(2))) as exported from PyTorch (Div, Erf, Add, Mul, Mul) ->
    com.microsoft Gelu, the same formula in one kernel. ONNX Runtime fuses this itself on the
    float graph but not after the quantized MatMul, so the CPU graph names it. Returns the count."""
    inits = {i.name: i for i in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    cons = _consumers(g)
    out_names = {o.name for o in g.output}
    dead, count = set(), 0

    def only_user(name):
        us = cons.get(name, [])
        return us[0] if len(us) == 1 and name not in out_names else None

    def scalar(name):
        v = _const(g, name, inits, producers)
        return float(v) if v is not None and v.size == 1 else None

    for erf in list(g.node):
        if erf.op_type != "Erf":
            continue
        div = producers.get(erf.input[0])
        if div is None or div.op_type != "Div" or abs((scalar(div.input[1]) or 0) - 2 ** 0.5) > 1e-6 or only_user(div.output[0]) is not erf:
            continue
        x = div.input[0]
        add = only_user(erf.output[0])
        if add is None or add.op_type != "Add":
            continue
        other = [i for i in add.input if i != erf.output[0]]
        if len(other) != 1 or scalar(other[0]) != 1.0:
            continue
        m1 = only_user(add.output[0])
        if m1 is None or m1.op_type != "Mul" or sorted(m1.input) != sorted([x, add.output[0]]):
            continue
        m2 = only_user(m1.output[0])
        if m2 is None or m2.op_type != "Mul":
            continue
        other = [i for i in m2.input if i != m1.output[0]]
        if len(other) != 1 or scalar(other[0]) != 0.5:
            continue
        g.node.append(helper.make_node("Gelu", [x], [m2.output[0]], name=(erf.name or x) + "_gelu", domain=MS_DOMAIN))
        dead.update(id(n) for n in (div, erf, add, m1, m2))
        count += 1
    if count:
        keep = [n for n in g.node if id(n) not in dead]
        del g.node[:]
        g.node.extend(keep)
        log(f"  {count} GELUs (Div, Erf, Add, Mul, Mul) -> com.microsoft Gelu")
    return count


def where_to_trilu(g, log=print):
    """Where(Cast(Not(Trilu(ones [T, T], k, upper=0)), bool), 0, X): the exporter's causal
    masked_fill of intra-chunk scores X [.., T, T] with 0 above the diagonal k -> Trilu(X, k,
    upper=0), the same numbers without the mask. Returns the count."""
    inits = {i.name: i for i in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    count = 0
    for i, w in enumerate(list(g.node)):
        if w.op_type != "Where":
            continue
        zero = _const(g, w.input[1], inits, producers)
        if zero is None or zero.size != 1 or float(zero) != 0.0:
            continue
        cast = producers.get(w.input[0])
        if cast is not None and cast.op_type == "Cast" and _attr(cast, "to") == TensorProto.BOOL:
            nt = producers.get(cast.input[0])
        else:
            nt = cast
        if nt is None or nt.op_type != "Not":
            continue
        tri = producers.get(nt.input[0])
        if tri is None or tri.op_type != "Trilu" or _attr(tri, "upper", 1) != 0:
            continue
        ones = producers.get(tri.input[0])
        if ones is None or ones.op_type != "ConstantOfShape" or not ones.attribute:
            continue
        v = numpy_helper.to_array(ones.attribute[0].t)
        if v.size != 1 or not bool(v.reshape(-1)[0]):
            continue
        shape = producers.get(ones.input[0])     # [n, n]: Concat of the same two scalars
        if shape is None or shape.op_type != "Concat" or len(shape.input) != 2:
            continue
        a, b = (producers.get(x) for x in shape.input)
        if a is None or b is None or a.op_type != "Unsqueeze" or b.op_type != "Unsqueeze" or a.input[0] != b.input[0]:
            continue
        k = list(tri.input[1:2])
        new = helper.make_node("Trilu", [w.input[2]] + k, [w.output[0]], upper=0, name=(w.name or w.output[0]) + "_trilu")
        g.node[i].CopyFrom(new)
        count += 1
    if count:
        log(f"  {count} causal masks (Where of Not(Trilu(ones))) -> Trilu on the scores")
    return count


# ---------------------------------------------------------------- quantization

class _Quantizer:
    def __init__(self, g, method, block_size, accuracy_level, min_elements, log, one_pass_codes=True, static_absmax=None):
        self.g, self.method, self.block_size, self.accuracy_level = g, method, block_size, accuracy_level
        # weight name -> calibrated max |activation| it reads (the int8 method's activation codes only)
        self.static_absmax = (static_absmax or {}) if method == "int8" else {}
        self.min_elements, self.log, self.one_pass_codes = min_elements, log, one_pass_codes
        self.inits = {i.name: i for i in g.initializer}
        self.producers = {o: n for n in g.node for o in n.output}
        self.new_inits, self.done, self.cache, self.shared, self.prelude = [], [], {}, set(), []

    def const(self, name, value):
        if name not in self.shared:
            self.shared.add(name)
            self.new_inits.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, wname, transposed):
        """Quantized initializers of one weight, made once however many MatMuls read it."""
        key = (wname, transposed)
        if key in self.cache:
            return self.cache[key]
        w = numpy_helper.to_array(self.inits[wname]).astype(np.float32)
        w = np.ascontiguousarray(w.T if transposed else w)          # [K, N]
        base = wname.replace("/", "_").replace(".", "_") + ("_T" if transposed else "") + "_q"
        k, n = w.shape
        if self.method in ("int8", "int8-dynamic"):
            q, scale = quantize_per_column_int8(w)
            self.new_inits.append(numpy_helper.from_array(scale, base + "_wscale"))
            if transposed:   # stored as [N, K] like the float initializer (ORT folds the Transpose at load)
                self.new_inits.append(numpy_helper.from_array(np.ascontiguousarray(q.T), base + "_Wt"))
                self.prelude.append(helper.make_node("Transpose", [base + "_Wt"], [base + "_W"], perm=[1, 0], name=base + "_W"))
            else:
                self.new_inits.append(numpy_helper.from_array(q, base + "_W"))
            entry = {"W": base + "_W", "Wt": base + "_Wt" if transposed else None, "wscale": base + "_wscale",
                     "err": float(np.abs(q * scale - w).max()), "step": float(scale.max())}
        else:
            bits = int(self.method[5:])
            codes, scales, zp = quantize_blocks(np.ascontiguousarray(w.T), bits, self.block_size, symmetric=(bits == 8))
            kb = codes.shape[1]
            self.new_inits += [numpy_helper.from_array(pack_bits(codes, bits), base + "_B"),
                               numpy_helper.from_array(scales.reshape(-1), base + "_scales")]
            entry = {"B": base + "_B", "scales": base + "_scales", "zp": None,
                     "err": float(np.abs(dequantize_blocks(codes, scales, zp, k).T - w).max()), "step": float(scales.max())}
            if bits == 4:
                zpad = np.pad(zp, ((0, 0), (0, kb % 2)))
                self.new_inits.append(numpy_helper.from_array(pack_bits(zpad, 4).reshape(-1), base + "_zp"))
                entry["zp"] = base + "_zp"
        entry.update(K=k, N=n, base=base)
        self.cache[key] = entry
        return entry

    def matmul(self, node):
        """New nodes for a weight MatMul, or None to keep it."""
        found = find_weight(node.input[1], self.producers, self.inits)
        if found is None:
            return None
        wname, transposed = found
        dims = list(self.inits[wname].dims)
        if dims[0] * dims[1] < self.min_elements:
            return None
        e = self.weight(wname, transposed)
        base = (node.name or node.output[0]).strip("/").replace("/", "_") + "_q"
        a, y, mk = node.input[0], node.output[0], helper.make_node
        absmax = self.static_absmax.get(wname.removesuffix(FP16_SUFFIX))
        if absmax is not None:
            # one calibrated scale for every row (the vocabulary head: its per-row scale ops cost
            # ~6% of a long chunk); a value past the calibrated range saturates
            scale = self.const(base + "_sscale", np.array(absmax / 127, np.float32))
            zp = self.const("q_zp128", np.array(128, np.uint8))
            nodes = [
                mk("QuantizeLinear", [a, scale, zp], [base + "_a"], name=base + "_aq"),
                mk("MatMulIntegerToFloat", [base + "_a", e["W"], scale, e["wscale"], zp], [y],
                   name=base + "_mm", domain=MS_DOMAIN),
            ]
        elif self.method == "int8":
            eps = self.const("q_eps", np.array(1e-30, np.float32))
            inv127 = self.const("q_inv127", np.array(1 / 127, np.float32))
            zp = self.const("q_zp128", np.array(128, np.uint8))
            one = self.const("q_one", np.array(1, np.float32))
            nodes = [   # per-row symmetric activation codes: a row's codes depend on that row only
                mk("Abs", [a], [base + "_abs"], name=base + "_abs"),
                mk("ReduceMax", [base + "_abs"], [base + "_amax"], axes=[-1], keepdims=1, name=base + "_amax"),
                mk("Max", [base + "_amax", eps], [base + "_amax1"], name=base + "_amax1"),
                mk("Mul", [base + "_amax1", inv127], [base + "_ascale"], name=base + "_ascale"),
            ]
            if self.one_pass_codes:
                # QuantizeLinear with a scale (and zero point) per row: axis -2 is the rows of a
                # batch-1 activation [1, T, K]; any other shape fails at run time, never mixes rows
                flat = self.const("q_flat", np.array([-1], np.int64))
                nodes += [
                    mk("Reshape", [base + "_ascale", flat], [base + "_arows"], name=base + "_arows"),
                    mk("Shape", [base + "_arows"], [base + "_nrows"], name=base + "_nrows"),
                    mk("Expand", [zp, base + "_nrows"], [base + "_azps"], name=base + "_azps"),
                    mk("QuantizeLinear", [a, base + "_arows", base + "_azps"], [base + "_a"], axis=-2, name=base + "_aq"),
                ]
            else:
                c128 = self.const("q_128", np.array(128, np.float32))
                nodes += [
                    # x * (1 / s): a Mul is cheaper than a Div (QuantizeLinear divides, so a code
                    # at an exact half may round apart: rare, and the forms differ by float rounding anyway)
                    mk("Reciprocal", [base + "_ascale"], [base + "_ainv"], name=base + "_ainv"),
                    mk("Mul", [a, base + "_ainv"], [base + "_adiv"], name=base + "_adiv"),
                    mk("Round", [base + "_adiv"], [base + "_around"], name=base + "_around"),
                    mk("Add", [base + "_around", c128], [base + "_ashift"], name=base + "_ashift"),
                    mk("Cast", [base + "_ashift"], [base + "_a"], to=TensorProto.UINT8, name=base + "_acast"),
                ]
            nodes += [
                # int32 accumulation, times the weight's column scales, in one kernel
                mk("MatMulIntegerToFloat", [base + "_a", e["W"], one, e["wscale"], zp], [base + "_fw"],
                   name=base + "_mm", domain=MS_DOMAIN),
                mk("Mul", [base + "_fw", base + "_ascale"], [y], name=base + "_rowscale"),
            ]
        elif self.method == "int8-dynamic":
            nodes = [
                mk("DynamicQuantizeLinear", [a], [base + "_a", base + "_ascale", base + "_azp"], name=base + "_dql"),
                mk("MatMulInteger", [base + "_a", e["W"], base + "_azp"], [base + "_i32"], name=base + "_mm"),
                mk("Cast", [base + "_i32"], [base + "_f"], to=TensorProto.FLOAT, name=base + "_cast"),
                mk("Mul", [base + "_ascale", e["wscale"]], [base + "_scale"], name=base + "_scale"),
                mk("Mul", [base + "_f", base + "_scale"], [y], name=base + "_out"),
            ]
        else:
            inputs = [a, e["B"], e["scales"]] + ([e["zp"]] if e["zp"] else [])
            nodes = [mk("MatMulNBits", inputs, [y], name=base + "_mm", domain=MS_DOMAIN, K=e["K"], N=e["N"],
                        bits=int(self.method[5:]), block_size=self.block_size, accuracy_level=self.accuracy_level)]
        self.done.append({"node": node.name, "weight": wname, "K": e["K"], "N": e["N"], "max_abs_error": e["err"],
                          "static_scale": absmax is not None})
        self.log(f"  {node.name or y}: {wname} [{e['K']} x {e['N']}] -> {self.method}, max |w - deq(w)| {e['err']:.2e}")
        return nodes

    def gather(self, node):
        """The embedding Gather of a weight whose transposed int8 copy the output projection
        reads: rows of the int8 table times their scales, so the float table can go."""
        if self.method not in ("int8", "int8-dynamic") or _attr(node, "axis", 0) != 0:
            return None
        wname = find_float_source(node.input[0], self.producers, self.inits)
        if wname is None or (wname, True) not in self.cache:
            return None
        e = self.cache[(wname, True)]                 # Wt [V, D]: the table's int8 codes, wscale [V]: row scales
        base = (node.name or node.output[0]).strip("/").replace("/", "_") + "_q"
        ids, y, mk = node.input[1], node.output[0], helper.make_node
        last = self.const("q_axis_last", np.array([-1], np.int64))
        nodes = [
            mk("Gather", [e["Wt"], ids], [base + "_codes"], axis=0, name=base + "_codes"),         # [*ids, D]
            mk("Cast", [base + "_codes"], [base + "_codesf"], to=TensorProto.FLOAT, name=base + "_cast"),
            mk("Gather", [e["wscale"], ids], [base + "_scale"], axis=0, name=base + "_scale"),      # [*ids]
            mk("Unsqueeze", [base + "_scale", last], [base + "_scale1"], name=base + "_scale1"),     # [*ids, 1]
            mk("Mul", [base + "_codesf", base + "_scale1"], [y], name=base + "_rows"),
        ]
        self.log(f"  {node.name}: embedding rows from the int8 table of {wname} (float table dropped)")
        return nodes


def quantize_model(model, method=DEFAULT_METHOD, block_size=32, accuracy_level=4, min_elements=4096,
                   split_tail=True, embed_from_int8=True, fuse=True, log=print, one_pass_codes=True, static_absmax=None):
    """Returns (new ModelProto, list of the quantized MatMuls). one_pass_codes: int8 activation
    codes by one per-row QuantizeLinear (1.10x the tokens/s at T = 1,024) rather than
    Reciprocal/Mul/Round/Add/Cast (~0.2 ms less per single-token run: cheaper kernels for few rows).
    static_absmax: {weight name: calibrated max |input|}: those MatMuls get one fixed activation scale."""
    if method not in METHODS:
        raise ValueError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    if length_switch.find_switch(model) is not None:
        # two forms behind an If on the chunk length (length_switch.py): each on its own, then
        # together again; their int8 weights are the same tensors, stored once
        qs, ql, limit, done = quantize_forms(model, method, block_size, accuracy_level, min_elements, split_tail,
                                             embed_from_int8, fuse, log, static_absmax)
        return length_switch.switch(qs, ql, limit), done
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    if split_tail:
        slice_after_log_softmax(g, log)
    if fuse:
        fuse_gelu(g, log)
        where_to_trilu(g, log)
    q = _Quantizer(g, method, block_size, accuracy_level, min_elements, log, one_pass_codes, static_absmax)
    body = []
    for node in list(g.node):
        new = q.matmul(node) if node.op_type == "MatMul" else None
        body.append((node, new))
    if embed_from_int8:
        body = [(n, new if new is not None else (q.gather(n) if n.op_type == "Gather" else None)) for n, new in body]
    del g.node[:]
    for node, new in body:
        g.node.extend(new if new is not None else [node])
    g.node.extend(q.prelude)
    g.initializer.extend(q.new_inits)
    prune(g)
    toposort(g)
    if any(n.domain == MS_DOMAIN for n in g.node) and not any(o.domain == MS_DOMAIN for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return m, q.done


def quantize_forms(model, method, block_size, accuracy_level, min_elements, split_tail, embed_from_int8, fuse, log,
                   static_absmax=None):
    """The two forms of a length-switched model (length_switch.py), each quantized:
    (short, long, max_small, the short form's quantized MatMuls)."""
    small, large, limit = length_switch.split(model)
    args = (method, block_size, accuracy_level, min_elements, split_tail, embed_from_int8, fuse)
    qs, done = quantize_model(small, *args, log=log, one_pass_codes=False, static_absmax=static_absmax)   # decoding: mostly one token
    ql, _ = quantize_model(large, *args, log=lambda *_: None, static_absmax=static_absmax)
    return qs, ql, limit, done


def quantize_step(model, method, block_size, accuracy_level, min_elements, split_tail, embed_from_int8, fuse):
    """The one-token decoding step, quantized. With the int8 method its activations take the
    int8-dynamic pattern (DynamicQuantizeLinear + MatMulInteger + scale): at T = 1 one scale per
    tensor is one per row (uint8, asymmetric: the same resolution), and ONNX Runtime fuses the
    pattern into one DynamicQuantizeMatMul, where the per-row codes take nine ops: 1.11x per token
    (one thread), as close to the float graph (over 1,000 decoded tokens of the sample file:
    bits per token +0.16% against the short form's +0.13%, the greedy token the float graph's at
    97.4% against 96.5%). The vocabulary head gets its dynamic scale too (its input is two rows:
    the state's last hidden row and the token's), so nothing saturates."""
    step_method = "int8-dynamic" if method == "int8" else method
    q, _ = quantize_model(model, step_method, block_size, accuracy_level, min_elements, split_tail, embed_from_int8, fuse,
                          log=lambda *_: None, one_pass_codes=False)
    return q


# ---------------------------------------------------------------- model folder

def static_absmax_of(manifest):
    """The exporter's calibration (export.py --calibration-tokens) as {weight: max |input|}, or None."""
    cal = (manifest or {}).get("calibration")
    return {cal["head_weight"]: cal["head_input_absmax"]} if cal else None


def quantize_folder(folder, method=DEFAULT_METHOD, out=DEFAULT_OUT, graph=None, block_size=32, accuracy_level=4,
                    min_elements=4096, update_manifest=True, split_tail=True, embed_from_int8=True, fuse=True, log=print,
                    static_head=True, step_graph=None, decode_graph=None):
    """step_graph: a float graph of the one-token step (export.py export_step), quantized too, as
    files.graph_cpu_step beside the two forms of a length-switched model; decode_graph: the same
    without scores (export.py export_decode), as files.graph_cpu_decode."""
    man_path = os.path.join(folder, "manifest.json")
    manifest = None
    if os.path.exists(man_path):
        with open(man_path) as f:
            manifest = json.load(f)
    if graph is None:
        graph = (manifest or {}).get("files", {}).get("graph", "model.onnx")
    src, dst = os.path.join(folder, graph), os.path.join(folder, out)
    if os.path.abspath(src) == os.path.abspath(dst):
        raise ValueError("the output would overwrite the float graph")
    if os.sep in out or "/" in out:
        raise ValueError(f"--out is a file name in the model folder, got {out!r}")
    static_absmax = static_absmax_of(manifest) if static_head and method == "int8" else None
    log(f"{src} -> {dst} ({method}{', static head scale' if static_absmax else ''})")
    model = onnx.load(src)
    long_out = None
    step_out = out.replace(".onnx", "") + "-step.onnx"
    decode_out = out.replace(".onnx", "") + "-decode.onnx"
    if length_switch.find_switch(model) is not None:
        # Two graph files instead of one If (the If costs ~0.15 ms per run, 6% of a decoded token):
        # the short form for decoding (files.graph_cpu), the long form for reading
        # (files.graph_cpu_long), their int8 weights in one shared file (out + ".data").
        qm, ql, limit, done = quantize_forms(model, method, block_size, accuracy_level, min_elements, split_tail,
                                             embed_from_int8, fuse, log, static_absmax)
        long_out = out.replace(".onnx", "") + "-long.onnx"
        more = []
        for source, name in ((step_graph, step_out), (decode_graph, decode_out)):
            if source:
                q1 = quantize_step(onnx.load(source), method, block_size, accuracy_level, min_elements, split_tail,
                                   embed_from_int8, fuse)
                more.append((q1, os.path.join(folder, name)))
        save_sharing_weights(qm, dst, ql, os.path.join(folder, long_out), more=more)
        sizes = sum(os.path.getsize(os.path.join(folder, f)) for f in (out, out + ".data", long_out)) \
            + sum(os.path.getsize(p) for _, p in more)
    else:
        qm, done = quantize_model(model, method, block_size, accuracy_level, min_elements, split_tail,
                                  embed_from_int8, fuse, log=log, static_absmax=static_absmax)
        onnx.checker.check_model(qm)
        onnx.save(qm, dst)
        sizes = os.path.getsize(dst)
    if not done:
        raise ValueError(f"{src}: no MatMul with a constant weight of at least {min_elements} elements")
    log(f"{len(done)} MatMuls quantized; {os.path.getsize(src) / 1e6:.2f} MB -> {sizes / 1e6:.2f} MB")
    if update_manifest and manifest is not None:
        files = manifest.setdefault("files", {})
        files["graph_cpu"] = out
        if long_out:
            files["graph_cpu_long"] = long_out
            files["graph_cpu_long_min_tokens"] = limit + 1
        else:
            files.pop("graph_cpu_long", None)
            files.pop("graph_cpu_long_min_tokens", None)
        for key, source, name in (("graph_cpu_step", step_graph, step_out), ("graph_cpu_decode", decode_graph, decode_out)):
            if long_out and source:
                files[key] = name
            else:
                files.pop(key, None)
        manifest["quantization"] = quantization_note(method, block_size, accuracy_level, min_elements, len(done),
                                                     static_absmax, step=bool(long_out and step_graph))
        with open(man_path, "w") as f:
            json.dump(manifest, f, indent=1)
        log(f"{man_path}: files.graph_cpu = {out}" + (f", files.graph_cpu_long = {long_out}" if long_out else ""))
    return dst, done


def save_sharing_weights(first, path, second, second_path, min_bytes=1024, more=()):
    """Saves two (or more: `more`, (model, path) pairs) models whose large initializers live in one
    file, path + ".data": the first model's, and the others' where they are the same tensors (by
    name and value)."""
    data_name = os.path.basename(path) + ".data"
    data_path = os.path.join(os.path.dirname(path), data_name)
    if os.path.exists(data_path):
        os.remove(data_path)      # onnx appends to an existing data file
    onnx.checker.check_model(first)
    for other, _ in [(second, second_path), *more]:
        onnx.checker.check_model(other)
    values = {t.name: numpy_helper.to_array(t) for t in first.graph.initializer}
    first_copy = onnx.ModelProto()
    first_copy.CopyFrom(first)    # save_model moves the tensors out of the proto it is given
    onnx.save_model(first_copy, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data_name,
                    size_threshold=min_bytes)
    stored = {t.name: t for t in onnx.load(path, load_external_data=False).graph.initializer
              if t.data_location == TensorProto.EXTERNAL}
    for other, other_path in [(second, second_path), *more]:
        m = onnx.ModelProto()
        m.CopyFrom(other)
        for t in m.graph.initializer:
            ref = stored.get(t.name)
            if ref is None or t.data_type != ref.data_type or not np.array_equal(numpy_helper.to_array(t), values[t.name]):
                continue
            kind = t.data_type
            dims = list(t.dims)
            t.Clear()
            t.name, t.data_type = ref.name, kind
            t.dims.extend(dims)
            t.data_location = TensorProto.EXTERNAL
            for e in ref.external_data:
                t.external_data.add(key=e.key, value=e.value)
        onnx.save_model(m, other_path)


def quantization_note(method, block_size, accuracy_level, min_elements, count, static_absmax=None, step=False):
    what = {
        "int8": "int8 weights per output column (symmetric) x int8 activations per row (symmetric, scale max|row|/127), "
                "int32 accumulation (MatMulIntegerToFloat)",
        "int8-dynamic": "int8 weights per output column x uint8 activations per tensor (DynamicQuantizeLinear + MatMulInteger)",
        "nbits8": f"MatMulNBits, 8-bit symmetric weights in blocks of {block_size} along K, accuracy_level {accuracy_level}",
        "nbits4": f"MatMulNBits, 4-bit weights with zero points in blocks of {block_size} along K, accuracy_level {accuracy_level}",
    }[method]
    note = {"graph": "files.graph_cpu", "method": method, "about": what, "matmuls": count,
            "min_elements": min_elements, "tool": "model/quantize.py",
            "float32": "embedding scale-up, recurrent state, norms, attention, softmax, surprisal"}
    if method == "int8" and step:
        note["step_graph"] = "files.graph_cpu_step: the same int8 weights, activations by DynamicQuantizeLinear (one row: a scale per row, uint8) fused into DynamicQuantizeMatMul"
    if static_absmax:
        note["static_activation_scale"] = {w: f"{m:.4g} / 127 (manifest calibration; larger values saturate)"
                                           for w, m in static_absmax.items()}
    return note


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="model folder (manifest.json, model.onnx)")
    ap.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD)
    ap.add_argument("--out", default=DEFAULT_OUT, help=f"output file name in the folder (default {DEFAULT_OUT})")
    ap.add_argument("--graph", help="input graph in the folder (default: manifest files.graph, else model.onnx)")
    ap.add_argument("--block-size", type=int, default=32, help="nbits methods: block size along K")
    ap.add_argument("--accuracy-level", type=int, default=4, help="nbits methods: MatMulNBits accuracy_level")
    ap.add_argument("--min-elements", type=int, default=4096, help="leave smaller weights float (default 4096)")
    ap.add_argument("--no-split-tail", action="store_true", help="keep the surprisal head's slice of T x vocab logits")
    ap.add_argument("--no-fuse-gelu", action="store_true", help="keep the exported GELU ops")
    ap.add_argument("--keep-float-embedding", action="store_true", help="the embedding Gather keeps reading the float table")
    ap.add_argument("--no-manifest", action="store_true", help="do not write files.graph_cpu into manifest.json")
    ap.add_argument("--per-row-head", action="store_true",
                    help="ignore the manifest's calibration: the head's activations get a scale per row")
    a = ap.parse_args(argv)
    quantize_folder(a.folder, a.method, a.out, a.graph, a.block_size, a.accuracy_level, a.min_elements,
                    not a.no_manifest, not a.no_split_tail, not a.keep_float_embedding, not a.no_fuse_gelu,
                    static_head=not a.per_row_head)


if __name__ == "__main__":
    sys.exit(main())
