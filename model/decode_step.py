"""A Flowformer's (or DeltaNet's) one-token step (export.py: model-step.onnx, and quantized model-int8-step.onnx):
the same weights and the same arithmetic as model.LM reading one token, written for as few ONNX
nodes as possible. At T = 1 ONNX Runtime's cost is per node (a few microseconds each for ops on a
few hundred floats), not arithmetic, so the step avoids what a chunk form needs and a token does
not:

- no time axis: the recurrence of ALGORITHMS.md section 1 written out (no cumulative sums, masks,
  T x T products);
- Flow-Attention's four running sums [cumk, cumq, ko, qi] (consecutive in the state layout) are
  one [4, H, d] piece of the state, and the pairs (q, k) go through each formula together: the
  incoming and outgoing normalisers are one reduction of [q, k] against [cum_k, cum_q], the sink
  and the source one of [q, k] against [ko, qi];
- the state is split once and rebuilt by one Concat, and pieces that are already flat (a window's
  keys and values, a short convolution's inputs) skip the reshapes there and back;
- the position t and each window's mask are computed once, not per layer; RoPE is two
  multiplications by tables that ONNX Runtime folds when it loads the graph.

The delta rule (ALGORITHMS.md section 2) has its step too: for one token the chunkwise UT form
is the rule itself, u = beta (v - k S), S <- S + k^T u, y = q S (read after the write).

Only the configurations the product ships are covered (supports()): Flow-Attention without decay
(flow_half_lives), the modern delta rule (SiLU, L2-normalised q and k), neither with split heads
(local_heads), with or without short convolutions, and sliding-window layers.
tests/test_model.py checks it against the graph form token by token.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import EPS, DeltaRule, FlowAttention, LocalAttention, exact_sigmoid, mask_bias

SUMS = ("cumk", "cumq", "ko", "qi")   # a flow layer's running sums, consecutive in the layout


def supports(cfg):
    if cfg.local_heads:
        return False
    if cfg.arch == "flowformer":
        return not cfg.flow_half_lives
    return cfg.arch == "deltanet" and cfg.delta_feature == "silu_l2"


def rope_tables(positions, d, base):
    """RoPE as x * cos_table + x[..., pair] * sin_table ([P, d] each): model.rope rotates the pairs
    (x[2i], x[2i+1]) by angle positions * base^(-2i/d); here each table entry is repeated for both
    members of its pair, with the sine's sign of the member it multiplies. Computed from arange in
    the graph: ONNX Runtime folds it at load, and no table becomes a stored (float16) weight."""
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    ang = positions[:, None] * inv[None]
    cos, sin = ang.cos(), ang.sin()
    return torch.stack([cos, cos], -1).flatten(-2), torch.stack([-sin, sin], -1).flatten(-2)


def rope_pair_matrix(cos, sin):
    """[d, 2 d]: q @ it = [rope(q), -pair(rope(q))] for one position's tables (rope_tables rows):
    rope(q)[c] = q[c] cos[c] + q[pair(c)] sin[c], and -pair(rope(q))[c] = q[c] sin[c] - q[pair(c)] cos[c]
    (cos is the same for both members of a pair, sin changes sign). Built from the tables in the
    graph (folded at load) and a 0/1 pair matrix, which float16 storage keeps exactly."""
    d = cos.shape[0]
    eye = torch.eye(d)
    swap = eye[[c ^ 1 for c in range(d)]]                             # row c has its 1 at pair(c)
    rot = eye * cos[None] + swap * sin[None]                           # q @ rot = rope(q)
    return torch.cat([rot, eye * sin[None] - swap * cos[None]], dim=1)  # second half: -pair(rope(q))


class OneTokenStep(nn.Module):
    """(tokens [1], state [N]) -> (logits [V], state_out [N], importance [1], surprisal [1]): the
    exported function, as export.ChunkGraph for one token. step() takes a batch.

    scores=False: (logits, state_out) only, the decoding graph (files.graph_cpu_decode) for a
    completion's steps, whose scores are never kept: the head projects the new hidden row only
    (no row for the input token's surprisal, no log-softmax)."""

    def __init__(self, lm, scores=True):
        super().__init__()
        self.scores = scores
        assert supports(lm.cfg), "the one-token step covers Flowformers without decay and modern DeltaNets, without split heads"
        self.lm = lm          # the same attribute name as export.ChunkGraph: weights share their names
        # one module per block, without parameters of their own (they use the LM's), so that graph
        # nodes are named by block and part as in the other graphs (bench/graphProfile.js)
        self.blocks = nn.ModuleList(BlockStep(blk, f"layer{i}") for i, blk in enumerate(lm.blocks))
        names, sizes = [], []
        for name, shape in lm.state_layout():
            layer, _, key = name.partition(".")
            size = math.prod(shape)
            if key in SUMS[1:]:
                assert names[-1] == f"{layer}.sums", "a flow layer's running sums must be consecutive"
                sizes[-1] += size         # joins its layer's cumk
                continue
            names.append(f"{layer}.sums" if key == SUMS[0] else name)
            sizes.append(size)
        self.piece_names, self.piece_sizes = names, sizes

    def forward(self, tokens, state):
        if not self.scores:
            logits, new = self.step(tokens.unsqueeze(0), state.unsqueeze(0))
            return logits[0], new[0]
        logits, new, importance, surprisal = self.step(tokens.unsqueeze(0), state.unsqueeze(0))
        return logits[0], new[0], importance[0], surprisal[0]

    def step(self, tokens, flat):
        """tokens [B, 1], flat [B, N] -> last logits [B, V], new flat state, importance [B, 1],
        surprisal [B, 1] in bits: LM.score_chunk of one token (scores=False: the first two)."""
        lm = self.lm
        B = tokens.shape[0]
        st = dict(zip(self.piece_names, torch.split(flat, self.piece_sizes, dim=1)))
        pos = st["pos"]                                                   # [B, 1]
        run = {"pos": pos, "t": (pos + 1.0).reshape(B, 1, 1, 1),          # this token's position, from 1
               "scores": [], "window_bias": {}}
        new = {"pos": pos + 1.0}
        x = lm.embed(tokens)                                              # [B, 1, D]
        for blk in self.blocks:
            x = blk(x, st, new, run)
        h = lm.norm(x)                                                    # [B, 1, D]
        new["last_hidden"] = h.reshape(B, -1).float()
        out = torch.cat([new[n] if new[n].dim() == 2 else new[n].reshape(B, -1) for n in self.piece_names], dim=1)
        if not self.scores:
            return lm.logits(h).float()[:, -1], out
        # LM.score_chunk's head, unchanged (quantize.py rewrites its surprisal part by pattern)
        prev = torch.cat([st["last_hidden"].unsqueeze(1).to(h.dtype), h], dim=1)   # [B, 2, D]
        logits = lm.logits(prev).float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        surprisal = -logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1) / math.log(2.0)
        # the mean over layers of each layer's mean over heads: one mean when the layers have as
        # many heads each (flow_heads, where set, is every recurrent layer's count)
        importance = torch.cat(run["scores"], dim=1).reshape(B, -1).mean(-1, keepdim=True)
        return logits[:, -1], out, importance, surprisal


def _refer(module, **refs):
    """Attributes that are not registered submodules: the LM's modules, used, not owned."""
    for k, v in refs.items():
        object.__setattr__(module, k, v)


class BlockStep(nn.Module):
    """model.Block for one token."""

    def __init__(self, blk, layer):
        super().__init__()
        _refer(self, norm1=blk.norm1, norm2=blk.norm2, up=blk.up, down=blk.down)
        if isinstance(blk.mixer, FlowAttention):
            self.mixer = FlowStep(blk.mixer, layer)
        elif isinstance(blk.mixer, DeltaRule):
            self.mixer = DeltaStep(blk.mixer, layer)
        elif isinstance(blk.mixer, LocalAttention):
            self.mixer = WindowStep(blk.mixer, layer)
        else:
            raise ValueError(f"no one-token step for {type(blk.mixer).__name__}")

    def forward(self, x, st, new, run):
        x = x + self.mixer(self.norm1(x), st, new, run)
        return x + self.down(F.gelu(self.up(self.norm2(x))))


class ConvStep(nn.Module):
    """model.ShortConv for one token: the weighted sum over its window; the state is the window
    without its oldest input."""

    def __init__(self, conv, key):
        super().__init__()
        _refer(self, conv=conv)
        self.key = key

    def forward(self, x, st, new):
        B, K = x.shape[0], self.conv.size
        xx = torch.cat([st[self.key].reshape(B, K - 1, -1).to(x.dtype), x], dim=1)   # [B, K, C]
        new[self.key] = xx[:, 1:]
        return (xx * self.conv.weight.t()).sum(1, keepdim=True)


class FlowStep(nn.Module):
    """Flow-Attention for one token (model.flow_attention's formulas with T = 1)."""

    def __init__(self, m, layer):
        super().__init__()
        _refer(self, m=m, qkv=m.qkv, out=m.out, gate=m.gate)
        self.conv = ConvStep(m.conv, f"{layer}.conv") if m.conv is not None else None
        self.layer = layer

    def forward(self, h, st, new, run):
        cfg, layer, t = self.m.cfg, self.layer, run["t"]
        B, H, d = h.shape[0], cfg.n_head, cfg.d_head
        swap = torch.tensor([1, 0])                                       # [a, b] -> [b, a]
        qkv = self.qkv(h)                                                 # [B, 1, 3 I]
        if self.conv is not None:
            qkv = self.conv(qkv, st, new)
        qk, v = qkv.float().reshape(B, 3, H, d).split([2, 1], dim=1)
        a = exact_sigmoid(qk)                                             # [q, k]      [B, 2, H, d]
        cums, flows = st[f"{layer}.sums"].reshape(B, 4, H, d).split(2, dim=1)   # [cumk, cumq], [ko, qi]
        cums = cums + a.index_select(1, swap)                             # [cum_k, cum_q]
        a_eps = a + EPS
        # [q * incoming, k * outgoing]: incoming = 1 / sum((q + eps)(cum_k + eps)), outgoing likewise
        a_io = a * (1.0 / (a_eps * (cums + EPS)).sum(-1, keepdim=True))
        flows = flows + a_io.index_select(1, swap) * t                    # [ko, qi]
        sink, src = ((a_eps * (flows + EPS)).sum(-1, keepdim=True) / t).split(1, dim=1)   # [B, 1, H, 1]
        exp_src = torch.exp(src.clamp(-cfg.flow_clamp, cfg.flow_clamp))
        e = st[f"{layer}.e"].reshape(B, 1, H, 1) + exp_src
        comp = exp_src / e * t                                            # source competition
        s = st[f"{layer}.s"].reshape(B, H, d, d) + a[:, 1:].reshape(B, H, d, 1) * (v * comp).reshape(B, H, 1, d)
        y = (a_io[:, :1] * torch.sigmoid(sink)).reshape(B, H, 1, d) @ s    # q * incoming * allocation, @ S
        new[f"{layer}.sums"] = torch.cat([cums, flows], dim=1)
        new[f"{layer}.e"], new[f"{layer}.s"] = e, s
        run["scores"].append(comp)
        y = y.reshape(B, 1, H * d).type_as(h)
        if self.gate is not None:
            y = y * F.silu(self.gate(h))
        return self.out(y)


class DeltaStep(nn.Module):
    """The modern delta rule for one token (model.DeltaRule with T = 1): the chunkwise form's one
    block reduces to the rule itself. Its score is the write strength |u| per head."""

    def __init__(self, m, layer):
        super().__init__()
        _refer(self, m=m, qkv=m.qkv, out=m.out, beta=m.beta, norm=m.norm)
        self.conv = ConvStep(m.conv, f"{layer}.conv") if m.conv is not None else None
        self.layer = layer

    def forward(self, h, st, new, run):
        cfg, layer = self.m.cfg, self.layer
        B, H, d = h.shape[0], cfg.n_head, cfg.d_head
        qkv = self.qkv(h)                                                 # [B, 1, 3 I]
        if self.conv is not None:
            qkv = self.conv(qkv, st, new)
        qk, v = F.silu(qkv.float().reshape(B, 3, H, d)).split([2, 1], dim=1)
        qk = F.normalize(qk, dim=-1, eps=1e-6)                            # [q, k]   [B, 2, H, d]
        q, k = qk.reshape(B, 2, H, 1, d).unbind(1)                        # [B, H, 1, d] each
        beta = torch.sigmoid(self.beta(h).float()).reshape(B, H, 1, 1)
        S = st[f"{layer}.w"].reshape(B, H, d, d)
        u = beta * (v.reshape(B, H, 1, d) - k @ S)                        # [B, H, 1, d]
        S = S + k.transpose(-1, -2) @ u
        new[f"{layer}.w"] = S
        run["scores"].append(u.norm(dim=-1).reshape(B, H))
        y = self.norm((q @ S).reshape(B, 1, H, d))
        return self.out(y.reshape(B, 1, H * d).type_as(h))


class WindowStep(nn.Module):
    """Sliding-window softmax attention for one token (model.local_attention_direct, T = 1): its
    query at slot W against the W + 1 keys of slots 0..W; keys and values stay flat in the state."""

    def __init__(self, m, layer):
        super().__init__()
        _refer(self, m=m, qkv=m.qkv, out=m.out)
        self.layer = layer

    def forward(self, h, st, new, run):
        m, cfg, layer = self.m, self.m.cfg, self.layer
        B, H, d, W = h.shape[0], cfg.n_head, cfg.d_head, cfg.window
        G = m.kv_width // d
        if W not in run["window_bias"]:
            # slots 0..W hold the W tokens before this one and itself (slot W); slots before the
            # file's start are masked. Computed once for the layers of one window width.
            slots = torch.arange(W + 1, dtype=torch.float32)
            run["window_bias"][W] = mask_bias(slots[None] >= (W - run["pos"])).reshape(B, 1, 1, W + 1)
        # [B, (W + 1) G d] -> [B, G, W + 1, d]; one key head (the shipped models) needs no transpose
        heads = lambda x: x.float().reshape(B, 1, W + 1, d) if G == 1 else x.float().reshape(B, W + 1, G, d).transpose(1, 2)   # noqa: E731
        q, k, v = self.qkv(h).split([cfg.inner, m.kv_width, m.kv_width], dim=-1)
        keys = torch.cat([st[f"{layer}.k"].to(k.dtype), k.reshape(B, -1)], dim=1)   # [B, (W + 1) G d]
        vals = torch.cat([st[f"{layer}.v"].to(v.dtype), v.reshape(B, -1)], dim=1)
        new[f"{layer}.k"], new[f"{layer}.v"] = keys[:, m.kv_width:].float(), vals[:, m.kv_width:].float()
        # RoPE without permuting the keys (a Gather over all W + 1 of them cost more than the
        # rest of the layer): with c = cos and s = the signed sine tables of rope_tables,
        # rope(q) . rope(k) = [rope(q), -pair(rope(q))] . [k * c, k * s], whose key side is two
        # elementwise products and whose query side one [d, 2 d] matrix (rope_pair_matrix)
        cos, sin = rope_tables(torch.arange(W + 1, dtype=torch.float32), d, cfg.rope_base)   # [W + 1, d]
        kh = torch.cat([heads(keys), heads(keys)], dim=-1) * torch.cat([cos, sin], dim=-1)   # [B, G, W + 1, 2 d]
        qh = q.float().reshape(B, G, H // G, d) @ rope_pair_matrix(cos[W], sin[W])   # [B, G, H / G, 2 d]
        att = (qh @ kh.transpose(-1, -2)) / math.sqrt(d) + run["window_bias"][W]     # [B, G, H / G, W + 1]
        y = att.softmax(-1) @ heads(vals)
        return self.out(y.reshape(B, 1, H * d).type_as(h))
