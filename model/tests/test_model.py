"""Chunked == recurrent == naive reference, in float32, for random weights.

The naive references below are written independently from ALGORITHMS.md (one token at a
time, plain loops, float64) and share no code with model.py's chunked forms.
"""
import math
import os
import random

import pytest
import torch
import torch.nn.functional as F

import decode_step
import export
from model import LM, Config, blocked_cumsum, flow_attention, delta_rule_chunked, unit_lower_inverse, dpfp, local_attention, \
    local_attention_direct, \
    decayed_flow_attention

torch.manual_seed(0)


def rel_err(a, b):
    return ((a.double() - b.double()).abs().max() / (b.double().abs().max() + 1e-30)).item()


# ---------------------------------------------------------------- naive references

def naive_flow(q, k, v, clamp, eps=1e-6, gamma=1.0):
    """One head, token by token, straight from the formulas. q, k [T, d], v [T, m] (float64).
    gamma < 1: every running sum (and the token count t) decays by gamma per token."""
    T, d = q.shape
    cumk = torch.zeros(d, dtype=torch.float64); cumq = torch.zeros(d, dtype=torch.float64)
    ko = torch.zeros(d, dtype=torch.float64); qi = torch.zeros(d, dtype=torch.float64)
    S = torch.zeros(d, v.shape[1], dtype=torch.float64); E = 0.0
    ys, comps = [], []
    t = 0.0
    for i in range(T):
        t = gamma * t + 1
        cumk = gamma * cumk + k[i]; cumq = gamma * cumq + q[i]
        I = 1.0 / torch.dot(q[i] + eps, cumk + eps)
        O = 1.0 / torch.dot(k[i] + eps, cumq + eps)
        ko = gamma * ko + k[i] * (O * t)
        qi = gamma * qi + q[i] * (I * t)
        sink = torch.dot(q[i] + eps, ko + eps) / t
        src = torch.clamp(torch.dot(k[i] + eps, qi + eps) / t, -clamp, clamp)
        E = gamma * E + math.exp(src)
        comp = math.exp(src) / E * t
        S = gamma * S + torch.outer(k[i], comp * v[i])
        ys.append(torch.sigmoid(sink) * ((q[i] * I) @ S))
        comps.append(comp)
    return torch.stack(ys), torch.tensor(comps, dtype=torch.float64)


def naive_delta(q, k, v, beta):
    """One head: W <- W + k (beta (v - W^T k))^T; y = W^T q after the write."""
    W = torch.zeros(k.shape[1], v.shape[1], dtype=torch.float64)
    ys, strengths = [], []
    for i in range(q.shape[0]):
        v_old = W.t() @ k[i]
        delta = beta[i] * (v[i] - v_old)
        W = W + torch.outer(k[i], delta)
        ys.append(W.t() @ q[i])
        strengths.append(delta.norm())
    return torch.stack(ys), torch.stack(strengths), W


def naive_local(q, k, v, W, base=10000.0):
    """One head, token by token: softmax over the token itself and the W tokens before it,
    RoPE at absolute positions (only differences matter). q, k, v [T, d] float64."""
    T, d = q.shape
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))

    def rot(x, t):
        a = t * inv
        x1, x2 = x[0::2], x[1::2]
        return torch.stack([x1 * a.cos() - x2 * a.sin(), x1 * a.sin() + x2 * a.cos()], -1).flatten()

    ys = []
    for i in range(T):
        js = range(max(0, i - W), i + 1)
        s = torch.stack([torch.dot(rot(q[i], i), rot(k[j], j)) for j in js]) / math.sqrt(d)
        ys.append(torch.softmax(s, 0) @ v[list(js)])
    return torch.stack(ys)


def sdpa_reference(q, k, v, mask):
    """F.scaled_dot_product_attention(q, k, v, attn_mask=mask) as its documentation defines it."""
    att = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    return att.masked_fill(~mask, float("-inf")).softmax(-1) @ v


# ---------------------------------------------------------------- mixer cores vs naive

@pytest.mark.parametrize("T,W,before,G", [(1, 4, 0, 2), (23, 4, 0, 2), (19, 8, 3, 2), (30, 8, 11, 2), (30, 8, 11, 1),
                                          (9, 4, 2, 1)])
def test_local_attention_matches_naive(T, W, before, G):
    """A chunk of T tokens after `before` tokens whose keys sit in the cache; G key/value heads
    (G < H: query heads share them in groups)."""
    B, H, d = 2, 2, 8
    D = H * d
    full = before + T
    q = torch.randn(B, full, D)
    k, v = (torch.randn(B, full, G * d) for _ in range(2))
    cache_k = torch.zeros(B, W, G * d); cache_v = torch.zeros(B, W, G * d)
    n = min(before, W)
    if n:
        cache_k[:, W - n:] = k[:, before - n:before]; cache_v[:, W - n:] = v[:, before - n:before]
    keys = torch.cat([cache_k, k[:, before:]], 1); vals = torch.cat([cache_v, v[:, before:]], 1)
    pos = torch.full((B,), float(before))
    forms = {"blocked": lambda: local_attention(q[:, before:], keys, vals, pos, H, W, 10000.0),
             "blocked, query block W/4": lambda: local_attention(q[:, before:], keys, vals, pos, H, W, 10000.0, W // 4),
             "direct": lambda: local_attention_direct(q[:, before:], keys, vals, pos, H, W, 10000.0),
             # the GPU trainer's layout: one attention call over all query blocks (F.scaled_dot_product_attention's
             # definition written out, and the function itself where this torch has it)
             "blocked, fused-attention layout": lambda: local_attention(q[:, before:], keys, vals, pos, H, W, 10000.0,
                                                                       attend=sdpa_reference)}
    if hasattr(F, "scaled_dot_product_attention"):
        forms["blocked, F.scaled_dot_product_attention"] = lambda: local_attention(
            q[:, before:], keys, vals, pos, H, W, 10000.0, attend=F.scaled_dot_product_attention)
    for form, attend in forms.items():
        y = attend()
        for b in range(B):
            for h in range(H):
                sl = slice(h * d, (h + 1) * d)
                g = h // (H // G)
                kv = slice(g * d, (g + 1) * d)
                ref = naive_local(q[b, :, sl].double(), k[b, :, kv].double(), v[b, :, kv].double(), W)
                assert rel_err(y[b, :, sl], ref[before:]) < 1e-5, form


@pytest.mark.parametrize("T,block", [(1, 8), (37, 8), (100, 16), (64, 64), (300, 8)])   # 300 / 8: more blocks than SUM_BLOCK
def test_flow_attention_matches_naive(T, block):
    B, H, d = 2, 3, 8
    q = torch.sigmoid(torch.randn(B, H, T, d)); k = torch.sigmoid(torch.randn(B, H, T, d))
    v = torch.randn(B, H, T, d)
    st = {"cumk": torch.zeros(B, H, d), "cumq": torch.zeros(B, H, d), "ko": torch.zeros(B, H, d),
          "qi": torch.zeros(B, H, d), "e": torch.zeros(B, H), "s": torch.zeros(B, H, d, d)}
    y, comp, _ = flow_attention(q, k, v, st, torch.zeros(B), 5.0, block)
    for b in range(B):
        for h in range(H):
            ry, rc = naive_flow(q[b, h].double(), k[b, h].double(), v[b, h].double(), 5.0)
            assert rel_err(y[b, h], ry) < 1e-5
            assert rel_err(comp[b, h], rc) < 1e-5


@pytest.mark.parametrize("T,block", [(1, 4), (4, 4), (5, 4), (63, 8), (200, 16), (30, 0)])
def test_blocked_cumsum_is_the_cumsum(T, block):
    x = torch.randn(2, 3, T, 4, 5)
    assert rel_err(blocked_cumsum(x, block), x.double().cumsum(2)) < 1e-5


@pytest.mark.parametrize("T,block", [(1, 8), (37, 8), (100, 16), (40, 0)])
def test_decayed_flow_attention_matches_naive(T, block):
    B, H, d = 2, 3, 8
    half_lives = [2.0, 0.0, 9.0]                       # fast decay, none, slow decay
    log_gamma = torch.tensor([-math.log(2) / h if h else 0.0 for h in half_lives])
    q = torch.sigmoid(torch.randn(B, H, T, d)); k = torch.sigmoid(torch.randn(B, H, T, d))
    v = torch.randn(B, H, T, d)
    st = {"cumk": torch.zeros(B, H, d), "cumq": torch.zeros(B, H, d), "ko": torch.zeros(B, H, d),
          "qi": torch.zeros(B, H, d), "e": torch.zeros(B, H), "s": torch.zeros(B, H, d, d), "count": torch.zeros(B, H)}
    y, comp, new = decayed_flow_attention(q, k, v, st, log_gamma, 5.0, block)
    for b in range(B):
        for h in range(H):
            g = math.exp(log_gamma[h].item())
            ry, rc = naive_flow(q[b, h].double(), k[b, h].double(), v[b, h].double(), 5.0, gamma=g)
            assert rel_err(y[b, h], ry) < 1e-5, (b, h)
            assert rel_err(comp[b, h], rc) < 1e-5
    if block:   # the plain form is the special case gamma = 1
        flat = {n: t for n, t in st.items() if n != "count"}
        y0, c0, _ = flow_attention(q, k, v, flat, torch.zeros(B), 5.0, block)
        y1, c1, _ = decayed_flow_attention(q, k, v, st, torch.zeros(H), 5.0, block)
        assert rel_err(y1, y0) < 1e-5 and rel_err(c1, c0) < 1e-5


@pytest.mark.parametrize("scan", [False, True], ids=["loop", "scan"])
@pytest.mark.parametrize("T,block", [(1, 8), (29, 8), (64, 16), (70, 32)])
def test_delta_rule_matches_naive(T, block, scan):
    B, H, d = 2, 2, 8
    k = torch.nn.functional.normalize(torch.randn(B, H, T, d), dim=-1)
    q = torch.nn.functional.normalize(torch.randn(B, H, T, d), dim=-1)
    v = torch.randn(B, H, T, d); beta = torch.sigmoid(torch.randn(B, H, T))
    y, strength, W = delta_rule_chunked(q, k, v, beta, torch.zeros(B, H, d, d), block, scan=scan)
    for b in range(B):
        for h in range(H):
            ry, rs, rW = naive_delta(q[b, h].double(), k[b, h].double(), v[b, h].double(), beta[b, h].double())
            assert rel_err(y[b, h], ry) < 1e-5
            assert rel_err(strength[b, h], rs) < 1e-5
            assert rel_err(W[b, h], rW) < 1e-5


def test_unit_lower_inverse_is_the_inverse():
    for C in (1, 2, 8, 64):
        A = torch.randn(3, C, C).tril(-1)
        inv = unit_lower_inverse(A)
        ref = torch.linalg.inv(torch.eye(C) + A.double())
        assert rel_err(inv, ref) < 1e-4   # random A makes (I+A)^-1 large; compare to its scale
        assert torch.allclose(inv @ (torch.eye(C) + A), torch.eye(C).expand(3, C, C), atol=1e-3 * ref.abs().max().item())


def test_dpfp_is_normalised_and_nonnegative():
    x = torch.randn(4, 5, 6)
    phi = dpfp(x, 2)
    assert phi.shape[-1] == 2 * 6 * 2
    assert (phi >= 0).all()
    assert torch.allclose(phi.sum(-1), torch.ones(4, 5), atol=1e-5)


# ---------------------------------------------------------------- whole models: chunked == recurrent == split

CONFIGS = [
    Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=8),
    Config(arch="deltanet", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=8),
    Config(arch="deltanet", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=8, delta_feature="dpfp", dpfp_nu=2),
    Config(arch="fastformer", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=8),
    Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, block_size=8, local_layers=(1,), window=8),
    Config(arch="deltanet", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=8, local_layers=(0,), window=4),
    Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=8, flow_half_lives=(3.0, 0.0, 12.0, 0.0)),
    Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=8, local_heads=2, window=8,
           flow_half_lives=(5.0, 0.0)),
    Config(arch="deltanet", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=8, local_heads=1, window=4),
    Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, block_size=8, local_layers=(1,), window=16,
           local_kv_heads=1),
    Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, block_size=8, local_layers=(0, 2),
           local_windows=(16, 8), local_kv_heads=1),
    Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, block_size=8, local_layers=(1,), window=8,
           local_kv_heads=1, flow_gate=True),
    Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, block_size=8, local_layers=(1,), window=8,
           local_kv_heads=1, flow_heads=2),
    # windows only (the ablation of run 11: no recurrent block, so no importance scores)
    Config(arch="deltanet", vocab_size=97, d_model=32, n_layer=2, n_head=4, block_size=8, local_layers=(0, 1), window=8,
           local_kv_heads=1),
]


@pytest.mark.parametrize("extra", [{}, {"flow_half_lives": (4.0, 0.0, 16.0, 0.0)}, {"local_heads": 2, "flow_half_lives": (4.0, 0.0)},
                                   {"local_kv_heads": 1, "window": 16},
                                   {"local_kv_heads": 1, "local_layers": (0, 1), "local_windows": (24, 8)},
                                   {"flow_gate": True}, {"flow_heads": 2, "local_kv_heads": 1}],
                         ids=["plain", "decayed", "split-heads", "shared-kv", "two-windows", "gated", "wide-flow-heads"])
def test_inference_graph_form_equals_training_form(extra):
    """graph_form (the exported graph: one unpadded block, direct local attention) computes
    what the blocked training form computes, chunk by chunk with the state carried."""
    torch.manual_seed(3)
    base = Config.from_dict(dict(Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, block_size=8,
                                        local_layers=(1,), window=8).to_dict(), **extra))
    train_lm = LM(base).eval()
    graph_lm = LM(Config.from_dict(dict(base.to_dict(), graph_form=True))).eval()
    graph_lm.load_state_dict(train_lm.state_dict())
    tokens = torch.randint(0, 97, (2, 50))
    with torch.no_grad():
        for cuts in ([], [1, 2, 3, 20, 21, 40], list(range(1, 50))):
            a, sa = run_in_pieces(train_lm, tokens, cuts)
            b, sb = run_in_pieces(graph_lm, tokens, cuts)
            for x, y in zip(a, b):
                assert rel_err(y[0], x[0]) < 1e-5 and rel_err(y[1], x[1]) < 1e-5 and rel_err(y[2], x[2]) < 1e-5
            for n in sa:
                assert rel_err(sb[n], sa[n]) < 1e-5, n


def run_in_pieces(lm, tokens, cuts):
    state = lm.init_state(tokens.shape[0])
    outs = []
    for a, b in zip([0] + cuts, cuts + [tokens.shape[1]]):
        logits, imp, sur = None, None, None
        last, state, imp, sur = lm.score_chunk(tokens[:, a:b], state)
        outs.append((last, imp, sur))
    return outs, state


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.arch}-{c.delta_feature}-local{list(c.local_layers)}-decay{list(c.flow_half_lives)}-lh{c.local_heads}-kv{c.local_kv_heads}-w{list(c.local_windows) or c.window}{'-gated' if c.flow_gate else ''}{f'-fh{c.flow_heads}' if c.flow_heads else ''}")
def test_chunked_equals_recurrent_equals_random_splits(cfg):
    torch.manual_seed(1)
    lm = LM(cfg).eval()
    with torch.no_grad():
        for p in lm.parameters():           # larger random weights so the test sees real dynamics
            p.add_(torch.randn_like(p) * 0.05)
    T = 45                                  # crosses several blocks of 8
    tokens = torch.randint(0, cfg.vocab_size, (2, T))
    with torch.no_grad():
        whole, st_whole = run_in_pieces(lm, tokens, [])
        _, imp_all, sur_all = whole[0]
        rec, st_rec = run_in_pieces(lm, tokens, list(range(1, T)))
        rnd = random.Random(7)
        for trial in range(3):
            cuts = sorted(rnd.sample(range(1, T), 5))
            split, st_split = run_in_pieces(lm, tokens, cuts)
            assert rel_err(torch.cat([o[2] for o in split], 1), sur_all) < 1e-5
            assert rel_err(torch.cat([o[1] for o in split], 1), imp_all) < 1e-5
            assert rel_err(split[-1][0], whole[0][0]) < 1e-5
            for n in st_whole:
                assert rel_err(st_split[n], st_whole[n]) < 1e-5, n
        assert rel_err(torch.cat([o[2] for o in rec], 1), sur_all) < 1e-5
        assert rel_err(torch.cat([o[1] for o in rec], 1), imp_all) < 1e-5
        assert rel_err(rec[-1][0], whole[0][0]) < 1e-5
        # surprisal is the negative log2-likelihood of the full forward's logits
        logits, _ = lm(tokens)
        logp = torch.log_softmax(logits.double(), -1)
        ref = -logp[:, :-1].gather(-1, tokens[:, 1:, None]).squeeze(-1) / math.log(2)
        assert rel_err(sur_all[:, 1:], ref) < 1e-5


def test_pack_unpack_roundtrip_and_size():
    cfg = CONFIGS[0]
    lm = LM(cfg)
    st = {n: torch.randn(2, *s) for n, s in lm.state_layout()}
    flat = lm.pack_state(st)
    assert flat.shape == (2, lm.state_size())
    back = lm.unpack_state(flat)
    for n in st:
        assert torch.equal(back[n], st[n])


def test_transformer_baseline_is_causal():
    cfg = Config(arch="transformer", vocab_size=97, d_model=32, n_layer=2, n_head=4)
    lm = LM(cfg).eval()
    tokens = torch.randint(0, 97, (1, 20))
    with torch.no_grad():
        a, _ = lm(tokens)
        tokens2 = tokens.clone(); tokens2[0, 15:] = (tokens2[0, 15:] + 1) % 97
        b, _ = lm(tokens2)
    assert torch.allclose(a[:, :15], b[:, :15], atol=1e-5)
    assert not torch.allclose(a[:, 15:], b[:, 15:], atol=1e-3)


def test_init_turns_flow_layers_into_window_layers_and_adds_gates(tmp_path):
    """train.py --init from a Flowformer with other block mixes: a Flow-Attention layer that is a
    shared-kv window layer here keeps its queries, its keys and values pooled (its convolution
    dropped) and starts as the identity (output projection zero); gates the source lacks keep their
    initialisation; every other weight is copied; a layer that would need weights the source has
    not is refused."""
    import train
    base = dict(arch="flowformer", vocab_size=97, d_model=32, n_layer=4, n_head=4, block_size=8, window=8,
                local_kv_heads=1)
    torch.manual_seed(3)
    src = LM(Config(**base, local_layers=(1,)))
    path = tmp_path / "src.pt"
    torch.save({"config": src.cfg.to_dict(), "training": {"tokens": 10},
                "model": {k: v.half() for k, v in src.state_dict().items()}}, path)
    dst = LM(Config(**base, local_layers=(0, 1, 3), flow_gate=True))
    gate_before = dst.state_dict()["blocks.2.mixer.gate.weight"].clone()
    train.load_init(dst, str(path))
    s, d = {k: v.half().float() for k, v in src.state_dict().items()}, dst.state_dict()
    assert torch.equal(d["blocks.2.mixer.gate.weight"], gate_before)
    for i in (0, 3):                                   # were Flow-Attention layers
        q, k, v = s[f"blocks.{i}.mixer.qkv.weight"].split(32)
        pooled = lambda w: w.reshape(1, 4, 8, 32).mean(1).reshape(8, 32)   # noqa: E731
        assert torch.allclose(d[f"blocks.{i}.mixer.qkv.weight"], torch.cat([q, pooled(k), pooled(v)]),
                              rtol=1e-3, atol=1e-5)
        assert f"blocks.{i}.mixer.conv.weight" not in d
        assert not d[f"blocks.{i}.mixer.out.weight"].any()
    for key in d:
        if key in s and "qkv" not in key and key not in ("blocks.0.mixer.out.weight", "blocks.3.mixer.out.weight"):
            assert torch.equal(d[key], s[key]), key
    assert d["blocks.1.mixer.out.weight"].any()
    with pytest.raises(AssertionError, match="parameters differ"):   # a window layer cannot become Flow-Attention
        train.load_init(LM(Config(**base, local_layers=())), str(path))


def test_init_widens_a_window_layer_to_shared_kv_heads(tmp_path):
    """train.py --init: a local layer with fewer key/value heads starts each shared head as the mean
    of the heads it replaces (queries and every other weight copied), and the record counts the
    tokens of the whole chain of runs the weights come from."""
    import train
    base = dict(arch="deltanet", vocab_size=97, d_model=32, n_layer=3, n_head=4, block_size=8, local_layers=(1,), window=8)
    torch.manual_seed(3)
    src = LM(Config(**base))
    path = tmp_path / "src.pt"
    torch.save({"config": src.cfg.to_dict(), "training": {"tokens": 10, "init_tokens": 5, "minutes": 2.0},
                "model": {k: v.half() for k, v in src.state_dict().items()}}, path)
    dst = LM(Config(**base, local_kv_heads=2))
    record = train.load_init(dst, str(path))
    assert record["init_tokens"] == 15 and record["init_minutes"] == 2.0
    s, d = {k: v.half().float() for k, v in src.state_dict().items()}, dst.state_dict()
    name = "blocks.1.mixer.qkv.weight"
    q, k, v = s[name].split(32)
    dh = 32 // 4
    pooled = lambda w: w.reshape(2, 2, dh, 32).mean(1).reshape(2 * dh, 32)   # noqa: E731
    # pooled in float16 by load_init (the stored dtype): within its rounding
    assert torch.allclose(d[name], torch.cat([q, pooled(k), pooled(v)]), rtol=1e-3, atol=1e-5)
    for key in s:
        if key != name:
            assert torch.equal(d[key], s[key].to(d[key].dtype)), key


@pytest.mark.parametrize("extra", [{}, {"local_kv_heads": 1, "window": 16}, {"conv_size": 0},
                                   {"local_kv_heads": 1, "local_layers": (0, 2), "local_windows": (16, 4)},
                                   {"flow_gate": True}, {"flow_heads": 2, "local_kv_heads": 1},
                                   {"arch": "deltanet"}, {"arch": "deltanet", "conv_size": 0},
                                   {"arch": "deltanet", "local_kv_heads": 1, "local_layers": (0, 2), "window": 16}],
                         ids=["window-8", "shared-kv-window-16", "no-conv", "two-windows", "gated", "wide-flow-heads",
                              "deltanet", "deltanet-no-conv", "deltanet-two-windows"])
def test_one_token_step_equals_graph_form(extra):
    """The decoding step (decode_step.OneTokenStep, on the flat state the exported graphs take)
    computes what the graph form computes, one token at a time with the state carried, before and
    after the window fills up: logits, every state tensor, importance and surprisal."""
    torch.manual_seed(4)
    base = Config.from_dict(dict(Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4,
                                        local_layers=(1,), window=8, graph_form=True).to_dict(), **extra))
    graph_lm = LM(base).eval()
    with torch.no_grad():
        for p in graph_lm.parameters():     # larger random weights so the test sees real dynamics
            p.add_(torch.randn_like(p) * 0.05)
    step = decode_step.OneTokenStep(graph_lm)
    tokens = torch.randint(0, 97, (2, 30))
    state = graph_lm.init_state(2)
    flat = graph_lm.pack_state(state)
    with torch.no_grad():
        for i in range(tokens.shape[1]):
            logits, state, imp, sur = graph_lm.score_chunk(tokens[:, i:i + 1], state)
            s_logits, flat, s_imp, s_sur = step.step(tokens[:, i:i + 1], flat)
            for name, ref, got in (("logits", logits, s_logits), ("importance", imp, s_imp), ("surprisal", sur, s_sur)):
                assert got.shape == ref.shape and rel_err(got, ref) < 1e-5, (i, name)
            stepped = graph_lm.unpack_state(flat)
            for n in state:
                assert rel_err(stepped[n], state[n]) < 1e-5, (i, n)


def test_flow_heads_widen_only_the_flow_attention_heads():
    """flow_heads: the Flow-Attention blocks get fewer, wider heads (running sum S of d x d per
    head, d = inner / flow_heads) at the same parameter count; the window blocks keep n_head, and
    the config round-trips through the manifest's dict."""
    base = dict(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, local_layers=(1,), window=8,
                local_kv_heads=1)
    wide, narrow = LM(Config(**base, flow_heads=2)), LM(Config(**base))
    shapes, before = dict(wide.state_layout()), dict(narrow.state_layout())
    assert shapes["layer0.s"] == (2, 16, 16) and before["layer0.s"] == (4, 8, 8)
    assert shapes["layer0.cumk"] == (2, 16) and shapes["layer0.e"] == (2,)
    assert shapes["layer1.k"] == before["layer1.k"] == (8, 8)
    assert wide.num_params() == narrow.num_params()
    assert LM(Config.from_dict(wide.cfg.to_dict())).state_layout() == wide.state_layout()
    tokens = torch.randint(0, 97, (1, 20))
    with torch.no_grad():
        _, _, imp, _ = wide.score_chunk(tokens, wide.init_state(1))
    assert imp.shape == (1, 20)


def test_local_windows_give_each_window_layer_its_own_width():
    """local_windows: one window per local layer; its keys and values are that layer's state, and
    the config round-trips through the manifest's dict."""
    cfg = Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=4, n_head=4, local_layers=(1, 3),
                 local_windows=(40, 8), local_kv_heads=1)
    lm = LM(cfg)
    shapes = dict(lm.state_layout())
    assert shapes["layer1.k"] == (40, 8) and shapes["layer1.v"] == (40, 8)
    assert shapes["layer3.k"] == (8, 8) and shapes["layer3.v"] == (8, 8)
    same = LM(Config.from_dict(dict(cfg.to_dict(), local_windows=(), window=40)))
    assert lm.state_size() == same.state_size() - 2 * 32 * 8
    assert Config.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(AssertionError):
        LM(Config.from_dict(dict(cfg.to_dict(), local_windows=(40,))))


def test_decoding_graph_is_the_step_without_scores():
    """OneTokenStep(scores=False), the decoding graph's module: the step's logits and state, and
    nothing else."""
    torch.manual_seed(5)
    lm = LM(Config(arch="flowformer", vocab_size=97, d_model=32, n_layer=3, n_head=4, local_layers=(1,), window=8,
                   graph_form=True)).eval()
    full, bare = decode_step.OneTokenStep(lm), decode_step.OneTokenStep(lm, scores=False)
    a = b = lm.pack_state(lm.init_state(1))[0]
    with torch.no_grad():
        for tok in torch.randint(0, 97, (12,)):
            out_a, out_b = full(tok.reshape(1), a), bare(tok.reshape(1), b)
            assert len(out_a) == 4 and len(out_b) == 2
            assert rel_err(out_b[0], out_a[0]) < 1e-6 and rel_err(out_b[1], out_a[1]) < 1e-6
            a, b = out_a[1], out_b[1]


def test_one_token_step_only_where_supported(tmp_path):
    """A Flowformer the step module does not cover (decaying sums) still exports its CPU source
    graph, without a step or decoding graph beside it (the engine then reads single tokens with
    the chunk graph); a covered one gets both."""
    decayed = Config(arch="flowformer", vocab_size=300, d_model=24, n_layer=2, n_head=2, flow_half_lives=(16.0, 0.0))
    plain = Config(arch="flowformer", vocab_size=300, d_model=24, n_layer=2, n_head=2)
    assert not decode_step.supports(decayed) and decode_step.supports(plain)
    assert decode_step.supports(Config(arch="deltanet")) and not decode_step.supports(Config(arch="deltanet", delta_feature="dpfp"))
    assert not decode_step.supports(Config(arch="transformer"))
    with pytest.raises(AssertionError):
        decode_step.OneTokenStep(LM(decayed))
    assert export.export_cpu_source(LM(decayed).eval(), str(tmp_path / "d.onnx"), False) == (None, None)
    assert (tmp_path / "d.onnx").exists() and not (tmp_path / "d-step.onnx").exists()
    step, decode = export.export_cpu_source(LM(plain).eval(), str(tmp_path / "p.onnx"), False)
    assert os.path.exists(step) and os.path.exists(decode)
