"""Export a trained (or, for the tiny test models, seeded random) LM to an ONNX model folder.

The folder holds model.onnx, tokenizer.json, manifest.json (the contract the engine reads:
models/contract.json says what every field means) and, with --fixture, a parity fixture:
token chunks in, the PyTorch outputs expected, for the engine's CI tests.

  python3 export.py --checkpoint ckpt.pt --out ../models/flowformer --fp16-weights --cpu-graph \
      --fixture ../test/fixtures/flowformer.json
  python3 export.py --tiny flowformer --out ../models/tiny-flowformer --fp16-weights \
      --fixture ../test/fixtures/tiny-flowformer.json
"""
import argparse
import base64
import hashlib
import json
import math
import os
import shutil
import tempfile
import warnings

import numpy as np
import torch

import decode_step
from model import LM, Config, FlowAttention, LocalAttention, ShortConv

HERE = os.path.dirname(os.path.abspath(__file__))
CONTRACT_PATH = os.path.join(HERE, "..", "models", "contract.json")
TOKENIZER_PATH = os.path.join(HERE, "assets", "tokenizer.json")
OPSET = 17
DELTA_MAX_CHUNK = 64   # the delta rule's graph reads one block: its UT transform is C x C
# Flow-Attention's model.onnx holds two forms behind an If on the chunk length (length_switch.py):
# up to SHORT_CHUNK tokens the graph form (one unpadded block: a token costs one row, T^2 in the
# chunk), above it the blocked training form (64-token blocks: linear in T, for reading).
SHORT_CHUNK = 64
FLOW_MAX_CHUNK = 4096  # the engine's longest run: T x vocab surprisal logits (268 MB at 4096)
# The longest model.onnx run on a GPU (manifest max_chunk_gpu): ONNX Runtime's CUDA kernels index
# the head's (T + 1) x vocab logits with 32-bit ints (T = 131,072 with a 16,384 vocabulary: an
# illegal memory access on the H200), so the largest power of two with (T + 1) x vocab < 2^31.

TINY = {
    # a sliding-window layer in the middle, as in the shipped models, so the tiny graphs cover every op
    "flowformer": Config(arch="flowformer", d_model=24, n_layer=3, n_head=2, block_size=16, local_layers=(1,), window=8),
    "deltanet": Config(arch="deltanet", d_model=24, n_layer=3, n_head=2, block_size=DELTA_MAX_CHUNK, local_layers=(1,), window=8),
}


def load_contract():
    with open(CONTRACT_PATH) as f:
        return json.load(f)


class ChunkGraph(torch.nn.Module):
    """The exported function: (tokens [T], state [N]) -> logits, state_out, importance, surprisal."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, tokens, state):
        st = self.lm.unpack_state(state.unsqueeze(0))
        logits, new, importance, surprisal = self.lm.score_chunk(tokens.unsqueeze(0), st)
        return logits[0], self.lm.pack_state(new)[0], importance[0], surprisal[0]


def max_chunk(cfg):
    return DELTA_MAX_CHUNK if cfg.arch == "deltanet" else FLOW_MAX_CHUNK


def max_chunk_gpu(cfg):
    """model.onnx's longest run on a GPU: a Flowformer's blocked reading form is linear in T up to
    the int32 limit above; the delta rule's graph reads one block (quadratic), as on the CPU."""
    if cfg.arch != "flowformer":
        return max_chunk(cfg)
    T = FLOW_MAX_CHUNK
    while (2 * T + 1) * cfg.vocab_size < 2 ** 31:
        T *= 2
    return T


def reformed(lm, **config):
    """The same weights under another form of the config (graph_form, block_size)."""
    g = LM(Config.from_dict(dict(lm.cfg.to_dict(), **config)))
    g.load_state_dict(lm.state_dict())
    return g.eval()


def graph_model(lm):
    """The same weights in the graph form (model.Config.graph_form): what gets exported."""
    return reformed(lm, graph_form=True)


def export_switched(lm, path, gpu=True):
    """model.onnx with two forms behind an If on the chunk length (length_switch.py). A Flowformer:
    the graph form up to SHORT_CHUNK tokens, the blocked form above. A DeltaNet: one delta-rule
    step for a single token (its chunk form pads every chunk to a 64-token block, so decoding
    paid for 64 tokens), the one-block chunk form for 2 to 64 tokens."""
    import tempfile
    import onnx
    import length_switch
    with tempfile.TemporaryDirectory() as tmp:
        short, long = os.path.join(tmp, "short.onnx"), os.path.join(tmp, "long.onnx")
        if lm.cfg.arch == "deltanet":
            export_onnx(step_model(lm), short, example_len=1)   # traced at T = 1: only ever runs there
            export_onnx(reading_form(graph_model(lm), gpu), long)
            limit = 1
        else:
            export_onnx(graph_model(lm), short)
            export_onnx(reading_form(blocked_model(lm), gpu), long)
            limit = SHORT_CHUNK
        onnx.save(length_switch.switch(onnx.load(short), onnx.load(long), limit), path)


def gather_before_slice(path):
    """The surprisal head without its T x vocab copy (quantize.slice_after_log_softmax: the
    log-softmax of all T + 1 rows, then the gather, then the slice; the same numbers), in every
    form of the graph. On the H200 that copy was a quarter of a 65,536-token run's kernel time."""
    import onnx
    import length_switch
    from quantize import slice_after_log_softmax, toposort
    model = onnx.load(path)
    if length_switch.find_switch(model) is not None:
        small, large, limit = length_switch.split(model)
        n = 0
        for form in (small, large):
            n += slice_after_log_softmax(form.graph, log=lambda _: None)
            toposort(form.graph)
        model = length_switch.switch(small, large, limit)
    else:
        n = slice_after_log_softmax(model.graph, log=lambda _: None)
        toposort(model.graph)
    if n == 0:
        raise ValueError(f"{path}: no surprisal head (MatMul, Slice, LogSoftmax, GatherElements) found to rewrite")
    onnx.save(model, path)


def reading_form(lm, gpu=False):
    """The form for chunks of many tokens (same weights): a long local window read in query blocks
    of block_size tokens, each against W + block_size keys, instead of window-sized blocks against
    2 W (fewer scores, less padding). For the CPU graphs, short convolutions as one grouped Conv.
    gpu (model.onnx, which the CUDA provider runs): Flow-Attention's running sums in blocks
    (model.blocked_cumsum: ONNX Runtime's CUDA CumSum is quadratic in its length), and the short
    convolutions as shifted sums: the CUDA provider's Conv searches cuDNN's algorithms afresh for
    every new chunk length (exhaustive by default; onnxruntime-node cannot change it)."""
    for m in lm.modules():
        if isinstance(m, FlowAttention) and gpu:
            m.sum_block = m.cfg.block_size
        if isinstance(m, ShortConv):
            m.as_conv1d = not gpu
        if isinstance(m, LocalAttention) and m.cfg.window > m.cfg.block_size and m.cfg.window % m.cfg.block_size == 0:
            m.query_block = m.cfg.block_size
    return lm


def step_model(lm):
    """The same weights with one-token delta-rule blocks: the decoding step."""
    return reformed(lm, graph_form=True, block_size=1)


def blocked_model(lm):
    """The same weights in the blocked (training) form."""
    return reformed(lm, graph_form=False)


def export_onnx(lm, path, example_len=5, dynamic=True, graph=None, outputs=None):
    """dynamic: T is a free dimension; else every shape is fixed at example_len. graph: the module
    to trace, with ChunkGraph's inputs and outputs (default ChunkGraph(lm)), or the first of those
    outputs named in `outputs`."""
    graph = (graph or ChunkGraph(lm)).eval()
    contract = load_contract()
    tokens = torch.randint(5, lm.cfg.vocab_size, (example_len,))
    state = torch.zeros(lm.state_size())
    kwargs = {}
    if "dynamo" in torch.onnx.export.__code__.co_varnames:
        kwargs["dynamo"] = False      # the TorchScript exporter: the same path on torch 1.13 and 2.x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (tokens, state), path, opset_version=OPSET,
                          input_names=list(contract["inputs"]), output_names=list(outputs or contract["outputs"]),
                          dynamic_axes={"tokens": {0: "T"}, "importance": {0: "T"}, "surprisal": {0: "T"}} if dynamic else None,
                          do_constant_folding=False, **kwargs)


def store_weights_fp16(path, min_elements=1024):
    """Rewrites large float32 initializers as float16 followed by a Cast to float32: half the
    file; ONNX Runtime folds the Casts when it loads the model, so compute stays float32."""
    import onnx
    from onnx import helper, numpy_helper
    from quantize import FP16_SUFFIX     # the name quantize.py and weights_from_onnx.py look for
    m = onnx.load(path)
    g = m.graph
    casts = []
    for init in g.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        arr = numpy_helper.to_array(init)
        if arr.size < min_elements:
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(arr.astype(np.float16), name + FP16_SUFFIX))
        casts.append(helper.make_node("Cast", [name + FP16_SUFFIX], [name], to=onnx.TensorProto.FLOAT, name="cast_" + name))
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def special_token_ids(tokenizer_path, contract):
    with open(tokenizer_path) as f:
        added = {t["content"]: t["id"] for t in json.load(f)["added_tokens"]}
    return {role: added[text] for role, text in contract["special_tokens"].items()}


def manifest(lm, name, tokenizer_path, training):
    contract = load_contract()
    cfg = lm.cfg
    tensors, off = [], 0
    for tname, shape in lm.state_layout():
        size = math.prod(shape)
        tensors.append({"name": tname, "offset": off, "shape": list(shape), "dtype": "float32", "init": 0.0})
        off += size
    importance = {
        "flowformer": ("source_competition", "mean over the Flow-Attention layers and heads of comp_t = exp(src_t) / mean_{i<=t} exp(src_i) (ALGORITHMS.md 1); 1 is average, fixed once the token is read"),
        "deltanet": ("write_strength", "mean over the delta-rule layers and heads of beta_t * ||v_t - v_old_t||: how strongly the token rewrote the fast weights"),
    }.get(cfg.arch, ("none", "no importance score"))
    return {
        "schema_version": contract["schema_version"],
        "name": name,
        "architecture": cfg.arch,
        "config": cfg.to_dict(),
        "parameters": lm.num_params(),
        "vocab_size": cfg.vocab_size,
        "max_chunk": max_chunk(cfg),
        "max_chunk_gpu": max_chunk_gpu(cfg),
        "inputs": contract["inputs"],
        "outputs": contract["outputs"],
        "state": {"size": off, "bytes": off * 4, "tensors": tensors,
                  "position_tensor": "pos", "about": "packed float32; all zeros at a document's start"},
        "special_tokens": special_token_ids(tokenizer_path, contract),
        "document_format": contract["document_format"],
        "importance": {"kind": importance[0], "about": importance[1]},
        "surprisal": {"unit": "bits"},
        "files": {"graph": "model.onnx", "tokenizer": "tokenizer.json"},
        "tokenizer_sha256": hashlib.sha256(open(tokenizer_path, "rb").read()).hexdigest(),
        "training": training,
    }


def b64(t):
    return base64.b64encode(t.detach().float().contiguous().numpy().astype("<f4").tobytes()).decode()


def parity_fixture(lm, path, seed=0, max_floats=4096):
    """Chunks with the state carried (T = 7, 1, 40 crosses blocks; a Flowformer also 100, past the
    graph form's SHORT_CHUNK); outputs from PyTorch.
    For a shipped model the logits and state are large: every k-th value is kept (k in
    logits_stride / state_stride) so the fixture stays small and still covers every layer."""
    g = torch.Generator().manual_seed(seed)
    # a Flowformer's 100-token chunk runs the graph's blocked form (length_switch.py)
    sizes = (7, 1, 40, 100) if lm.cfg.arch == "flowformer" else (7, 1, 40)
    chunks = [torch.randint(5, lm.cfg.vocab_size, (n,), generator=g) for n in sizes]
    chunks[0][0] = 1   # a document starts with fim_prefix
    state = torch.zeros(lm.state_size())
    graph = ChunkGraph(graph_model(lm)).eval()
    # a chunk past SHORT_CHUNK runs the blocked reading form in model.onnx: the same form here (the
    # forms agree within float32 rounding, model/tests; on a shipped model's large running sums
    # that rounding alone can reach 1e-4)
    reading = ChunkGraph(reading_form(blocked_model(lm), gpu=True)).eval() if lm.cfg.arch == "flowformer" else graph
    stride = lambda n: max(1, math.ceil(n / max_floats))   # noqa: E731
    ls, ss = stride(lm.cfg.vocab_size), stride(lm.state_size())
    steps = []
    with torch.no_grad():
        for tokens in chunks:
            form = reading if len(tokens) > SHORT_CHUNK else graph
            logits, state, imp, sur = form(tokens, state)
            steps.append({"tokens": tokens.tolist(), "logits": b64(logits[::ls]), "state_out": b64(state[::ss]),
                          "importance": imp.tolist(), "surprisal": sur.tolist()})
    with open(path, "w") as f:
        json.dump({"about": "PyTorch outputs for chunks read in order with the state carried; float32 arrays are "
                            "base64 little-endian, every logits_stride-th logit and state_stride-th state value",
                   "logits_stride": ls, "state_stride": ss, "steps": steps}, f)


def head_input_absmax(lm, tokens):
    """The largest |value| the vocabulary head reads (the final norm's output) over the calibration
    tokens, read as the engine reads a file (state carried): model/quantize.py gives the head's
    int8 activation codes this one fixed scale instead of one per row."""
    # in the blocked form: the same function, linear in the chunk (the graph form's one-block chunk
    # is quadratic: 20 s against 11.6 s per 2,048 tokens on the 2-core CPU, beside another export;
    # the calibration text is ~83 such chunks)
    lm = reformed(lm, graph_form=False)
    state, top, chunk = None, 0.0, min(2048, max_chunk(lm.cfg))
    with torch.no_grad():
        for i in range(0, len(tokens), chunk):
            h, state, _ = lm.hidden(torch.tensor(tokens[i:i + chunk]).unsqueeze(0), state)
            top = max(top, float(h.abs().max()))
    return top


def write_model_folder(lm, out, name, training, fixture=None, fp16_weights=False, calibration=None, cpu_graph=False):
    """calibration: (token ids, what they are) for the CPU graph's static head scale, a manifest's
    calibration record to keep as it is, or None. cpu_graph: also the int8 CPU graphs
    (model/quantize.py, manifest files.graph_cpu), quantized from a float graph with plain running
    sums (faster on the CPU than model.onnx's blocked ones)."""
    with tempfile.TemporaryDirectory() as tmp:
        _write_model_folder(lm, out, name, training, fixture, fp16_weights, calibration, cpu_graph, tmp)


def _write_model_folder(lm, out, name, training, fixture, fp16_weights, calibration, cpu_graph, tmp):
    os.makedirs(out, exist_ok=True)
    lm = lm.float().eval().cpu()
    if fp16_weights:                       # round first, so PyTorch and the fixture see the same weights
        lm = lm.half().float()
    lm = graph_model(lm)
    if lm.cfg.arch in ("flowformer", "deltanet"):
        export_switched(lm, os.path.join(out, "model.onnx"))
    else:
        export_onnx(lm, os.path.join(out, "model.onnx"))
    gather_before_slice(os.path.join(out, "model.onnx"))
    if fp16_weights:
        store_weights_fp16(os.path.join(out, "model.onnx"))
    # a one-token graph (model-step.onnx), exported once: the int8 step and decoding graphs are
    # quantized from the same graph (export_cpu_source)
    step = decode_step.supports(lm.cfg) and os.path.join(tmp, "model-step.onnx")
    if step:
        export_step(lm, step)
        if fp16_weights:
            store_weights_fp16(step)
        write_float_step(out, step)
    training = dict(training, weights_stored_as="float16" if fp16_weights else "float32")
    shutil.copyfile(TOKENIZER_PATH, os.path.join(out, "tokenizer.json"))
    man = manifest(lm, name, TOKENIZER_PATH, training)
    if step:
        man["files"]["graph_step"] = "model-step.onnx"
    if isinstance(calibration, dict):
        man["calibration"] = calibration
    elif calibration:
        ids, about = calibration
        man["calibration"] = {"head_input_absmax": head_input_absmax(lm, ids), "head_weight": "lm.embed.weight",
                              "tokens": len(ids), "text": about}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)
    if fixture:
        parity_fixture(lm, fixture)
    if cpu_graph:
        import quantize
        source = os.path.join(tmp, "model-cpu-form.onnx")
        step, decode = export_cpu_source(lm, source, fp16_weights, step or None)
        quantize.quantize_folder(out, graph=source, step_graph=step, decode_graph=decode)
    print(f"{name}: {lm.num_params() / 1e6:.2f}M parameters, state {lm.state_size() * 4 / 1024:.1f} KiB, "
          f"model.onnx {os.path.getsize(os.path.join(out, 'model.onnx')) / 1e6:.2f} MB")


def write_float_step(out, step):
    """model-step.onnx (manifest files.graph_step): the one-token step (export_step, exported to
    `step`) in float, over model.onnx's weights: model.onnx's large initializers move to
    model.onnx.data, which both graphs read. Beside a GPU the CPU reads a document's single tokens
    with it (typing): 1.53x model.onnx's graph form at T = 1 on one thread (BENCHMARKS.md), the
    same numbers within float rounding, so checkpoints still do not depend on where a run went."""
    import onnx
    import quantize
    main = os.path.join(out, "model.onnx")
    quantize.save_sharing_weights(onnx.load(main), main, onnx.load(step), os.path.join(out, "model-step.onnx"))


def export_cpu_source(lm, path, fp16_weights, step=None):
    """The float graph the int8 CPU graphs are quantized from: model.onnx's CPU form (plain
    running sums, grouped Conv; export_switched(gpu=False)), weights stored as in model.onnx. For
    a Flowformer or a modern DeltaNet also its one-token step (export_step; decode_step.supports; `step`: already
    exported there) and its decoding graph (export_decode) beside it: returns their paths,
    (None, None) without them."""
    if lm.cfg.arch in ("flowformer", "deltanet"):
        export_switched(lm, path, gpu=False)
    else:
        export_onnx(lm, path)
    decode, exported = None, [path]
    if decode_step.supports(lm.cfg):
        if step is None:
            step = path.replace(".onnx", "") + "-step.onnx"
            export_step(lm, step)
            exported.append(step)
        decode = path.replace(".onnx", "") + "-decode.onnx"
        export_decode(lm, decode)
        exported.append(decode)
    else:
        step = None
    for p in exported:
        if fp16_weights:
            store_weights_fp16(p)
    return step, decode


def export_decode(lm, path):
    """The decoding graph (files.graph_cpu_decode, quantized): export_step without the scores,
    outputs logits and state_out only (decode_step.OneTokenStep scores=False)."""
    export_onnx(lm, path, example_len=1, dynamic=False, graph=decode_step.OneTokenStep(graph_model(lm), scores=False),
                outputs=load_contract()["decode_outputs"])


def export_step(lm, path):
    """The one-token step (decode_step.py: the recurrence written out, fewer nodes) with every
    shape fixed (T = 1), so that ONNX Runtime folds the shape arithmetic. Flowformers and modern
    DeltaNets have it (decode_step.supports: not with decaying sums, DPFP features or split heads;
    those folders have no step graph and the engine reads single tokens with model.onnx)."""
    export_onnx(lm, path, example_len=1, dynamic=False, graph=decode_step.OneTokenStep(graph_model(lm)))


def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu")
    lm = LM(Config.from_dict(ck["config"]))
    lm.load_state_dict({k: v.float() for k, v in ck["model"].items()})
    return lm, ck.get("training", {})


def load_folder(folder):
    """A shipped model folder's weights, training record and calibration, to export it again with
    this exporter (a changed graph, the same model): (lm, training, calibration record or None)."""
    from weights_from_onnx import recover
    config, weights, training = recover(folder)
    lm = LM(Config.from_dict(config))
    lm.load_state_dict({k: v.float() for k, v in weights.items()})
    training.pop("recovered_from", None)
    training.pop("weights_stored_as", None)
    with open(os.path.join(folder, "manifest.json")) as f:
        return lm, training, json.load(f).get("calibration")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint")
    ap.add_argument("--reexport", metavar="FOLDER", help="the weights, training record and calibration of a "
                    "model folder (e.g. the --out folder itself): its graphs again from this exporter")
    ap.add_argument("--tiny", choices=sorted(TINY))
    ap.add_argument("--out", required=True)
    ap.add_argument("--name")
    ap.add_argument("--fixture")
    ap.add_argument("--fp16-weights", action="store_true", help="store weights as float16 (half the file)")
    ap.add_argument("--calibration-tokens", help="JSON array of token ids (node out/bench/tokenIds.js) for the CPU "
                    "graph's static head scale; not given: the head's activations get a scale per row")
    ap.add_argument("--calibration-about", default="", help="what the calibration tokens are, for the manifest")
    ap.add_argument("--cpu-graph", action="store_true",
                    help="also write the int8 CPU graph (model/quantize.py) and name it in manifest files.graph_cpu")
    a = ap.parse_args()
    if a.tiny:
        torch.manual_seed(1234)
        lm, training = LM(TINY[a.tiny]), {"note": "random weights (seed 1234): a test model, not a language model"}
        calibration = None
    elif a.reexport:
        lm, training, calibration = load_folder(a.reexport)
    else:
        lm, training = load_checkpoint(a.checkpoint)
        calibration = None
    if a.calibration_tokens:
        with open(a.calibration_tokens) as f:
            calibration = (json.load(f), a.calibration_about or os.path.basename(a.calibration_tokens))
    write_model_folder(lm, a.out, a.name or os.path.basename(os.path.normpath(a.out)), training, a.fixture,
                       a.fp16_weights, calibration, a.cpu_graph)
