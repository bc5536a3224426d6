"""Flowstate language models: one file, four architectures sharing one block layout.

- flowformer:  causal Flow-Attention (ALGORITHMS.md section 1), running sums in float32
- deltanet:    delta-rule fast weights (section 2), modern (SiLU + L2 norm + short conv)
               or the seed's variant (DPFP feature map + sum normalisation)
- transformer: softmax attention with RoPE, the baseline (evaluation only, no fixed state)
- fastformer:  causal additive attention (section 3), a small-state reference row

Every recurrent mixer has a chunked-parallel form (training, prefill) that takes and returns
its state, so a document can be read in chunks of any size, or one token at a time, with the
same result. No absolute position embeddings: order comes from causality, the running
position t of Flow-Attention and a short causal convolution.

Runs on torch 1.13 (CI, CPU) and 2.x (GPU machine); export.py traces it to ONNX.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-6
SUM_BLOCK = 32   # the GPU graph's blocked_cumsum over a chunk's block totals (1,024 at T = 65,536)


@dataclass
class Config:
    arch: str = "flowformer"          # flowformer | deltanet | transformer | fastformer
    vocab_size: int = 16384
    d_model: int = 256
    n_layer: int = 8
    n_head: int = 8
    mlp_mult: int = 4
    conv_size: int = 4                # causal depthwise conv on q, k, v; 0 disables it
    block_size: int = 64              # block length of the chunked-parallel forms
    graph_form: bool = False          # the exported graph's form: Flow-Attention's chunk as one
                                      # unpadded block and direct local attention, so a short chunk
                                      # costs what it holds (quadratic only up to max_chunk)
    flow_clamp: float = 5.0           # c in src = clamp(..., -c, c)
    flow_half_lives: tuple = ()       # per head: every running sum of Flow-Attention decays with this
                                      # half-life in tokens (0: no decay, the whole file); () none
    flow_gate: bool = False           # Flow-Attention's output times silu(W_g x), per channel: lets a
                                      # block pass or drop what its normalised running sums return
    flow_heads: int = 0               # heads of the Flow-Attention blocks (0: n_head), each inner / flow_heads
                                      # wide: fewer, wider heads keep a larger running sum S (d x d) per
                                      # head at the same parameters; the window blocks keep n_head
    delta_feature: str = "silu_l2"    # deltanet: silu_l2 (modern) | dpfp (seed)
    dpfp_nu: int = 1
    rope_base: float = 10000.0
    local_layers: tuple = ()          # layers that use sliding-window softmax attention instead
    local_heads: int = 0              # in the other recurrent layers, this many of the n_head heads
                                      # are sliding-window softmax heads beside the recurrent ones
    head_dim: int = 0                 # 0: d_model // n_head
    window: int = 64                  # tokens before the current one a local layer sees
    local_windows: tuple = ()         # one window per local layer (in local_layers' order) instead
                                      # of `window` for all: e.g. one wide window and one narrow
                                      # within the same state size
    local_kv_heads: int = 0           # key/value heads of a local layer, shared by groups of its query
                                      # heads (0: one per query head); fewer let the window grow at
                                      # the same state size

    @property
    def d_head(self):
        return self.head_dim or self.d_model // self.n_head

    @property
    def inner(self):
        """Width of a mixer's heads together (d_model unless the heads are split, see local_heads)."""
        return self.n_head * self.d_head

    def to_dict(self):
        d = asdict(self)
        d["local_layers"] = list(self.local_layers)
        d["flow_half_lives"] = list(self.flow_half_lives)
        d["local_windows"] = list(self.local_windows)
        return d

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d["local_layers"] = tuple(d.get("local_layers", ()))
        d["flow_half_lives"] = tuple(d.get("flow_half_lives", ()))
        d["local_windows"] = tuple(d.get("local_windows", ()))
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


# ----------------------------------------------------------------------------- helpers

class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)).type_as(x) * self.weight


class ShortConv(nn.Module):
    """Causal depthwise convolution over time; its state is the last (size - 1) inputs."""

    def __init__(self, channels, size):
        super().__init__()
        self.size = size
        # the exporter's reading form sets it: one grouped Conv instead of size shifted
        # Slice/Mul/Add passes (1.6x faster for 1,024 tokens in ONNX Runtime on the CPU); the
        # unrolled sum stays for training and for single tokens, where it is the cheaper of the two
        self.as_conv1d = False
        w = torch.zeros(channels, size)
        w[:, -1] = 1.0                                  # starts as the identity
        self.weight = nn.Parameter(w + 0.02 * torch.randn(channels, size))

    def forward(self, x, prev):
        # x [B, T, C]; prev [B, size-1, C] (the inputs before the chunk)
        xx = torch.cat([prev.to(x.dtype), x], dim=1)
        T = x.shape[1]
        if self.as_conv1d:
            out = F.conv1d(xx.transpose(1, 2), self.weight.unsqueeze(1).to(x.dtype), groups=self.weight.shape[0]).transpose(1, 2)
            return out, xx[:, -(self.size - 1):]
        out = 0
        for j in range(self.size):                      # size is 4: an unrolled sum beats conv1d setup
            out = out + xx[:, j:j + T] * self.weight[:, j]
        return out, xx[:, -(self.size - 1):]


def pad_time(x, block, dim):
    """Pads dimension `dim` of x with zeros to a multiple of `block` (dynamic under ONNX tracing)."""
    T = x.shape[dim]
    pad = (block - T % block) % block
    shape = list(x.shape)
    shape[dim] = pad
    return torch.cat([x, x.new_zeros(shape)], dim=dim)


def blocked_cumsum(x, block):
    """x.cumsum(2) (x [B, H, T, ...]) in two levels: inside blocks of `block` steps, then over
    the block totals (block 0: one plain cumsum). The same sums, for ONNX Runtime's CUDA CumSum,
    which adds up each output's whole prefix (O(T^2) per channel: a 65,536-token chunk read 10x
    slower per token than a 4,096-token one on the H200); blocked, no CumSum runs longer than
    max(block, T / block) steps. On the CPU, where CumSum is linear, the plain form is faster
    (the int8 reading graph 12-16% at T = 1,024-4,096)."""
    if block == 0:
        return x.cumsum(2)
    T = x.shape[2]
    xp = pad_time(x, block, 2)
    shape = list(xp.shape)
    xb = xp.reshape(shape[:2] + [shape[2] // block, block] + shape[3:])
    within = xb.cumsum(3)
    totals = within[:, :, :, -1:]                                          # [B, H, n, 1, ...]
    before = totals.cumsum(2) - totals                                     # exclusive over blocks
    return (within + before).reshape(shape)[:, :, :T]


def causal_linear_attention(q, k, v, S0, block, sum_block=0):
    """y_i = q_i . (S0 + sum_{j<=i} k_j v_j^T), blocked: quadratic only inside blocks (block 0:
    the whole chunk is one block, unpadded). sum_block > 0: the prefix over the blocks as
    blocked_cumsum(., sum_block).

    q, k [B, H, T, d]; v [B, H, T, m]; S0 [B, H, d, m]. Returns y [B, H, T, m] and the
    state after the last token. Zero padding at the end never reaches earlier positions.
    """
    B, H, T, d = q.shape
    m = v.shape[-1]
    S_end = S0 + k.transpose(-1, -2) @ v
    if block == 0:                                                   # one block, no padding
        mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
        return ((q @ k.transpose(-1, -2)).masked_fill(~mask, 0.0) @ v) + q @ S0, S_end
    qb, kb, vb = (pad_time(t, block, 2) for t in (q, k, v))
    n = qb.shape[2] // block
    qb = qb.reshape(B, H, n, block, d)
    kb = kb.reshape(B, H, n, block, d)
    vb = vb.reshape(B, H, n, block, m)
    mask = torch.ones(block, block, dtype=torch.bool, device=q.device).tril()
    scores = (qb @ kb.transpose(-1, -2)).masked_fill(~mask, 0.0)
    intra = scores @ vb
    block_kv = kb.transpose(-1, -2) @ vb                             # [B, H, n, d, m]
    before = S0.unsqueeze(2) + blocked_cumsum(block_kv, sum_block) - block_kv   # exclusive prefix
    y = intra + qb @ before
    return y.reshape(B, H, n * block, m)[:, :, :T], S_end


def unit_lower_inverse(A):
    """(I + A)^-1 for strictly lower-triangular A [..., C, C], C a power of two.

    Doubles the inverted diagonal blocks (1, 2, 4, ...): [[X,0],[Y,Z]]^-1 =
    [[X^-1,0],[-Z^-1 Y X^-1, Z^-1]]. Only matmuls and reshapes (exportable), and as stable
    as forward substitution (no large powers of A, unlike the Neumann-product form).
    """
    C = A.shape[-1]
    lead = A.shape[:-2]
    inv = torch.ones(lead + (C, 1, 1), dtype=A.dtype, device=A.device)   # C diagonal 1x1 blocks
    b = 1
    while b < C:
        nb = C // (2 * b)
        Y = _diag_left_block(A.reshape(lead + (nb, 2, b, C)), nb, b)
        inv2 = inv.reshape(lead + (nb, 2, b, b))
        X, Z = inv2[..., 0, :, :], inv2[..., 1, :, :]
        low = -(Z @ Y @ X)
        top = torch.cat([X, torch.zeros_like(X)], dim=-1)
        bot = torch.cat([low, Z], dim=-1)
        inv = torch.cat([top, bot], dim=-2)             # [..., nb, 2b, 2b]
        b *= 2
    return inv.reshape(lead + (C, C))


def _diag_left_block(Ab, nb, b):
    """For each pair p of diagonal b-blocks, the block of A below X and left of Z."""
    # Ab [..., nb, 2, b, C]: rows of block-row pair p; the wanted columns are p*2b .. p*2b+b
    rows = Ab[..., 1, :, :].reshape(Ab.shape[:-4] + (nb, b, nb, 2 * b))
    eye = torch.eye(nb, dtype=Ab.dtype, device=Ab.device)
    # select column group p for row group p without advanced indexing (export-friendly)
    sel = (rows * eye.reshape((nb, 1, nb, 1))).sum(-2)              # [..., nb, b, 2b]
    return sel[..., :b]


# ----------------------------------------------------------------------------- mixers

class FlowAttention(nn.Module):
    """Causal Flow-Attention with its recurrent state (cumK, cumQ, KO, QI, E, S)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, H, d, I = cfg.d_model, cfg.n_head, cfg.d_head, cfg.inner
        self.qkv = nn.Linear(D, 3 * I, bias=False)
        self.conv = ShortConv(3 * I, cfg.conv_size) if cfg.conv_size > 1 else None
        self.out = nn.Linear(I, D, bias=False)
        self.gate = nn.Linear(D, I, bias=False) if cfg.flow_gate else None
        lg = None
        if cfg.flow_half_lives:
            assert len(cfg.flow_half_lives) == H, "one half-life per head"
            lg = torch.tensor([-math.log(2.0) / h if h > 0 else 0.0 for h in cfg.flow_half_lives])
        self.register_buffer("log_gamma", lg, persistent=False)   # fixed by the config, not a weight
        self.sum_block = 0   # > 0: running sums in blocks of this many tokens (export.py's GPU graph)

    def state_shapes(self):
        H, d, I = self.cfg.n_head, self.cfg.d_head, self.cfg.inner
        shapes = {"cumk": (H, d), "cumq": (H, d), "ko": (H, d), "qi": (H, d), "e": (H,), "s": (H, d, d)}
        if self.log_gamma is not None:
            shapes["count"] = (H,)                     # the decayed number of tokens read
        if self.conv is not None:
            shapes["conv"] = (self.cfg.conv_size - 1, 3 * I)
        return shapes

    def forward(self, x, st, pos):
        """x [B, T, D]; st: dict of state tensors [B, ...]; pos [B] tokens before the chunk."""
        cfg = self.cfg
        B, T, D = x.shape
        H, d = cfg.n_head, cfg.d_head
        qkv = self.qkv(x)
        new = {}
        if self.conv is not None:
            qkv, new["conv"] = self.conv(qkv, st["conv"])
        with torch.autocast(device_type=x.device.type, enabled=False):
            qkv = qkv.float().reshape(B, T, 3, H, d).permute(2, 0, 3, 1, 4)   # [3, B, H, T, d]
            q, k, v = exact_sigmoid(qkv[0]), exact_sigmoid(qkv[1]), qkv[2]
            block = 0 if cfg.graph_form else cfg.block_size
            if self.log_gamma is None:
                y, scores, flow = flow_attention(q, k, v, st, pos, cfg.flow_clamp, block, self.sum_block)
            else:
                y, scores, flow = decayed_flow_attention(q, k, v, st, self.log_gamma, cfg.flow_clamp, block)
            y = y.transpose(1, 2).reshape(B, T, cfg.inner)
        new.update(flow)
        y = y.type_as(x)
        if self.gate is not None:
            y = y * F.silu(self.gate(x))
        return self.out(y), new, scores


def exact_sigmoid(x):
    """1 / (1 + exp(-x)). The flow's normalisers divide by sums of sigmoids that a trained model
    drives towards 0, so their relative accuracy matters: ONNX Runtime's CPU Sigmoid kernel is an
    approximation (2e-4 relative error downstream, measured), its Exp is not."""
    return 1.0 / (1.0 + torch.exp(-x))


def flow_attention(q, k, v, st, pos, clamp, block, sum_block=0):
    """ALGORITHMS.md section 1 in chunked form. q, k [B,H,T,d] in (0,1), v [B,H,T,m], float32.
    sum_block > 0: the running sums as blocked_cumsum(., sum_block) (the GPU graph's form).

    Returns y [B,H,T,m], the source-competition scores comp [B,H,T] and the new state.
    """
    T = q.shape[2]
    t = pos.float()[:, None, None] + torch.arange(1, T + 1, device=q.device, dtype=torch.float32)
    cs = lambda x: blocked_cumsum(x, sum_block)                        # noqa: E731
    cum_k = st["cumk"].unsqueeze(2) + cs(k)
    cum_q = st["cumq"].unsqueeze(2) + cs(q)
    incoming = 1.0 / ((q + EPS) * (cum_k + EPS)).sum(-1)              # I_t  [B,H,T]
    outgoing = 1.0 / ((k + EPS) * (cum_q + EPS)).sum(-1)              # O_t
    ko = st["ko"].unsqueeze(2) + cs(k * (outgoing * t).unsqueeze(-1))
    qi = st["qi"].unsqueeze(2) + cs(q * (incoming * t).unsqueeze(-1))
    sink = ((q + EPS) * (ko + EPS)).sum(-1) / t
    src = (((k + EPS) * (qi + EPS)).sum(-1) / t).clamp(-clamp, clamp)
    alloc = torch.sigmoid(sink)
    exp_src = torch.exp(src)
    e = st["e"].unsqueeze(2) + cs(exp_src)
    comp = exp_src / e * t                                             # source competition
    y, s = causal_linear_attention(q * incoming.unsqueeze(-1), k, v * comp.unsqueeze(-1), st["s"], block,
                                   SUM_BLOCK if sum_block else 0)
    y = y * alloc.unsqueeze(-1)
    new = {"cumk": cum_k[:, :, -1], "cumq": cum_q[:, :, -1], "ko": ko[:, :, -1], "qi": qi[:, :, -1],
           "e": e[:, :, -1], "s": s}
    return y, comp, new


def decay_matrix(log_gamma, C, step=1):
    """[H, C, C]: gamma^(step (i - j)) for j <= i, else 0."""
    i = torch.arange(C, device=log_gamma.device, dtype=torch.float32)
    diff = i[:, None] - i[None, :]
    return torch.exp(log_gamma.view(-1, 1, 1) * step * diff.clamp(min=0)) * (diff >= 0).float()


def decayed_cumsum(x, log_gamma, init, block):
    """out_t = sum_{i<=t} gamma^(t-i) x_i + gamma^(t+1) init, per head (gamma = exp(log_gamma)).
    x [B, H, T, F]; init [B, H, F]. Blocked like causal_linear_attention (block 0: one block):
    decay matrices inside blocks, and across blocks over the block totals."""
    B, H, T, F = x.shape
    xb = x if block == 0 else pad_time(x, block, 2)
    C = T if block == 0 else block
    n = xb.shape[2] // C
    xb = xb.reshape(B, H, n, C, F)
    within = decay_matrix(log_gamma, C)[None, :, None] @ xb                # [B, H, n, C, F]
    before = decay_matrix(log_gamma, n, C)[None] @ within[:, :, :, -1]   # inclusive block prefix
    b = torch.arange(n, device=x.device, dtype=torch.float32)
    carry = torch.cat([torch.zeros_like(before[:, :, :1]), before[:, :, :-1]], 2) \
        + torch.exp(log_gamma.view(H, 1) * C * b)[None, :, :, None] * init.unsqueeze(2)
    i = torch.arange(1, C + 1, device=x.device, dtype=torch.float32)
    out = within + torch.exp(log_gamma.view(H, 1) * i).view(1, H, 1, C, 1) * carry.unsqueeze(3)
    return out.reshape(B, H, n * C, F)[:, :, :T]


def decayed_linear_attention(q, k, v, S0, log_gamma, block):
    """y_i = q_i . S_i, S_i = sum_{j<=i} gamma^(i-j) k_j v_j^T + gamma^(i+1) S0, per head."""
    B, H, T, d = q.shape
    m = v.shape[-1]
    lg = log_gamma.view(1, H, 1, 1)
    j = torch.arange(T, device=q.device, dtype=torch.float32).view(1, 1, T, 1)
    S_end = (k * torch.exp(lg * (T - 1 - j))).transpose(-1, -2) @ v + torch.exp(lg * T) * S0
    C = T if block == 0 else block
    qb, kb, vb = (t if block == 0 else pad_time(t, block, 2) for t in (q, k, v))
    n = qb.shape[2] // C
    qb, kb, vb = qb.reshape(B, H, n, C, d), kb.reshape(B, H, n, C, d), vb.reshape(B, H, n, C, m)
    D = decay_matrix(log_gamma, C)[None, :, None]                          # [1, H, 1, C, C]
    intra = ((qb @ kb.transpose(-1, -2)) * D) @ vb
    i = torch.arange(C, device=q.device, dtype=torch.float32)
    to_end = torch.exp(log_gamma.view(1, H, 1, 1) * (C - 1 - i).view(1, 1, C, 1))   # [1, H, C, 1]
    block_kv = (kb * to_end.unsqueeze(2)).transpose(-1, -2) @ vb          # [B, H, n, d, m]
    P = (decay_matrix(log_gamma, n, C)[None] @ block_kv.reshape(B, H, n, d * m)).reshape(B, H, n, d, m)
    bi = torch.arange(n, device=q.device, dtype=torch.float32)
    start = torch.cat([torch.zeros_like(P[:, :, :1]), P[:, :, :-1]], 2) \
        + torch.exp(log_gamma.view(1, H, 1, 1, 1) * C * bi.view(1, 1, n, 1, 1)) * S0.unsqueeze(2)
    from_start = torch.exp(log_gamma.view(1, H, 1, 1) * (i + 1).view(1, 1, C, 1)).unsqueeze(2)  # [1, H, 1, C, 1]
    y = intra + (qb * from_start) @ start
    return y.reshape(B, H, n * C, m)[:, :, :T], S_end


def decayed_flow_attention(q, k, v, st, log_gamma, clamp, block):
    """flow_attention with every running sum decayed per head (gamma = 1 is the plain form); the
    token count t becomes the decayed count, kept in the state."""
    B, H, T, d = q.shape
    dcs = lambda x, init: decayed_cumsum(x, log_gamma, init, block)          # noqa: E731
    t = dcs(torch.ones(B, H, T, 1, device=q.device), st["count"].unsqueeze(-1))[..., 0]   # [B, H, T]
    cum_k, cum_q = dcs(k, st["cumk"]), dcs(q, st["cumq"])
    incoming = 1.0 / ((q + EPS) * (cum_k + EPS)).sum(-1)
    outgoing = 1.0 / ((k + EPS) * (cum_q + EPS)).sum(-1)
    ko = dcs(k * (outgoing * t).unsqueeze(-1), st["ko"])
    qi = dcs(q * (incoming * t).unsqueeze(-1), st["qi"])
    sink = ((q + EPS) * (ko + EPS)).sum(-1) / t
    src = (((k + EPS) * (qi + EPS)).sum(-1) / t).clamp(-clamp, clamp)
    alloc = torch.sigmoid(sink)
    exp_src = torch.exp(src)
    e = dcs(exp_src.unsqueeze(-1), st["e"].unsqueeze(-1))[..., 0]
    comp = exp_src / e * t
    y, s = decayed_linear_attention(q * incoming.unsqueeze(-1), k, v * comp.unsqueeze(-1), st["s"], log_gamma, block)
    y = y * alloc.unsqueeze(-1)
    new = {"cumk": cum_k[:, :, -1], "cumq": cum_q[:, :, -1], "ko": ko[:, :, -1], "qi": qi[:, :, -1],
           "e": e[:, :, -1], "s": s, "count": t[:, :, -1]}
    return y, comp, new


def dpfp(x, nu):
    """Deterministic parameter-free projection (Schlag et al.), then sum normalisation."""
    x = torch.cat([F.relu(x), F.relu(-x)], dim=-1)
    rolled = torch.cat([x * torch.roll(x, shifts=j, dims=-1) for j in range(1, nu + 1)], dim=-1)
    return rolled / (rolled.sum(-1, keepdim=True) + EPS)


class DeltaRule(nn.Module):
    """Delta-rule fast weights: W <- W + phi(k) (beta (v - W^T phi(k)))^T, read y = W^T phi(q)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, H, I = cfg.d_model, cfg.n_head, cfg.inner
        self.qkv = nn.Linear(D, 3 * I, bias=False)
        self.beta = nn.Linear(D, H, bias=True)
        modern = cfg.delta_feature == "silu_l2"
        self.conv = ShortConv(3 * I, cfg.conv_size) if (modern and cfg.conv_size > 1) else None
        self.norm = RMSNorm(cfg.d_head) if modern else None
        self.out = nn.Linear(I, D, bias=False)

    @property
    def d_key(self):
        c = self.cfg
        return c.d_head if c.delta_feature == "silu_l2" else 2 * c.d_head * c.dpfp_nu

    def state_shapes(self):
        c = self.cfg
        shapes = {"w": (c.n_head, self.d_key, c.d_head)}
        if self.conv is not None:
            shapes["conv"] = (c.conv_size - 1, 3 * c.inner)
        return shapes

    def features(self, q, k, v):
        if self.cfg.delta_feature == "silu_l2":
            q, k, v = F.silu(q), F.silu(k), F.silu(v)
            return F.normalize(q, dim=-1, eps=1e-6), F.normalize(k, dim=-1, eps=1e-6), v
        return dpfp(q, self.cfg.dpfp_nu), dpfp(k, self.cfg.dpfp_nu), v

    def forward(self, x, st, pos):
        cfg = self.cfg
        B, T, D = x.shape
        H, d = cfg.n_head, cfg.d_head
        qkv = self.qkv(x)
        new = {}
        if self.conv is not None:
            qkv, new["conv"] = self.conv(qkv, st["conv"])
        with torch.autocast(device_type=x.device.type, enabled=False):
            qkv = qkv.float().reshape(B, T, 3, H, d).permute(2, 0, 3, 1, 4)
            q, k, v = self.features(qkv[0], qkv[1], qkv[2])
            beta = torch.sigmoid(self.beta(x).float()).transpose(1, 2)   # [B, H, T]
            # exported graphs read one document (batch 1): shapes the exporter can fix
            static = (H, self.d_key, d) if torch.onnx.is_in_onnx_export() else None
            y, strength, w = delta_rule_chunked(q, k, v, beta, st["w"], cfg.block_size, static_heads=static)
        new["w"] = w
        if self.norm is not None:
            y = self.norm(y)
        y = y.transpose(1, 2).reshape(B, T, cfg.inner).type_as(x)
        return self.out(y), new, strength


def delta_block(q, k, v, beta, S):
    """One block of the delta rule in WY/UT form. q, k [B,H,C,dk], v [B,H,C,dv], beta [B,H,C],
    S [B,H,dk,dv]. C must be a power of two. Returns y, U' (= beta_i (v_i - v_old_i)), S_next."""
    C = q.shape[2]
    strict = torch.ones(C, C, dtype=torch.bool, device=q.device).tril(-1)
    A = ((beta.unsqueeze(-1) * (k @ k.transpose(-1, -2)))).masked_fill(~strict, 0.0)
    Tm = unit_lower_inverse(A) * beta.unsqueeze(-2)                   # (I + A)^-1 diag(beta)
    u = Tm @ (v - k @ S)                                              # U' = T (V - K S)
    incl = torch.ones(C, C, dtype=torch.bool, device=q.device).tril()
    y = q @ S + (q @ k.transpose(-1, -2)).masked_fill(~incl, 0.0) @ u
    return y, u, S + k.transpose(-1, -2) @ u


def delta_rule_chunked(q, k, v, beta, S, block, scan=None, static_heads=None):
    """The delta rule over any T: the UT transforms of all blocks at once, then the state at
    each block's start (block_starts: an associative scan on the GPU, a loop on the CPU). Padded tokens get beta = 0, so they neither
    write nor disturb the state. Returns y, write strength, state.

    static_heads: (H, d_key, d_value) as Python ints, when exporting a graph of batch 1: the
    padded block then gets a constant shape, so ONNX Runtime can fold the block's shape
    arithmetic (Shape, Gather, Concat chains) that a data-dependent Pad otherwise leaves to
    every run."""
    T = q.shape[2]
    if T <= block:   # one block (the exported graph always takes this path: T <= max_chunk)
        qp, kp, vp = (pad_time(t, block, 2) for t in (q, k, v))
        bp = pad_time(beta, block, 2)
        if static_heads is not None:
            H, dk, dv = static_heads
            qp, kp, vp = qp.reshape(1, H, block, dk), kp.reshape(1, H, block, dk), vp.reshape(1, H, block, dv)
            bp, S = bp.reshape(1, H, block), S.reshape(1, H, dk, dv)
        y, u, S = delta_block(qp, kp, vp, bp, S)
        return y[:, :, :T], u[:, :, :T].norm(dim=-1), S
    B, H, _, dk = q.shape
    dv = v.shape[-1]
    C = block
    qp, kp = (pad_time(t, C, 2).reshape(B, H, -1, C, dk) for t in (q, k))
    vp = pad_time(v, C, 2).reshape(B, H, -1, C, dv)
    bp = pad_time(beta, C, 2).reshape(B, H, -1, C)
    n = qp.shape[2]
    strict = torch.ones(C, C, dtype=torch.bool, device=q.device).tril(-1)
    incl = torch.ones(C, C, dtype=torch.bool, device=q.device).tril()
    A = (bp.unsqueeze(-1) * (kp @ kp.transpose(-1, -2))).masked_fill(~strict, 0.0)
    Tm = unit_lower_inverse(A) * bp.unsqueeze(-2)                       # all blocks at once
    Wy, Uy = Tm @ kp, Tm @ vp                                           # U' = Uy - Wy S per block
    qk = (qp @ kp.transpose(-1, -2)).masked_fill(~incl, 0.0)
    starts, S = block_starts(kp, Wy, Uy, S, scan=q.is_cuda if scan is None else scan)
    u = Uy - Wy @ starts
    y = (qp @ starts + qk @ u).reshape(B, H, n * C, dv)[:, :, :T]
    u = u.reshape(B, H, n * C, dv)[:, :, :T]
    return y, u.norm(dim=-1), S


def block_starts(kp, Wy, Uy, S, scan):
    """Block i maps the state S -> A_i S + B_i (A_i = I - K_i^T W_i, B_i = K_i^T U_i). Returns the
    state before every block [B, H, n, dk, dv] and after the last. scan=True composes the maps
    with an associative (Hillis-Steele) scan: log2(n) batched steps, more arithmetic but no
    per-block kernel launches, which is what limits training on a GPU; scan=False loops."""
    n = kp.shape[2]
    kt = kp.transpose(-1, -2)
    if not scan:
        starts = []
        for i in range(n):
            starts.append(S)
            S = S + kt[:, :, i] @ (Uy[:, :, i] - Wy[:, :, i] @ S)
        return torch.stack(starts, 2), S
    A = torch.eye(kp.shape[-1], dtype=kp.dtype, device=kp.device) - kt @ Wy   # [B, H, n, dk, dk]
    Bm = kt @ Uy                                                              # [B, H, n, dk, dv]
    off = 1
    while off < n:                                                            # inclusive prefix
        A_cur, A_prev = A[:, :, off:], A[:, :, :-off]
        Bm = torch.cat([Bm[:, :, :off], A_cur @ Bm[:, :, :-off] + Bm[:, :, off:]], 2)
        A = torch.cat([A[:, :, :off], A_cur @ A_prev], 2)
        off *= 2
    S0 = S.unsqueeze(2)
    starts = torch.cat([S0, A[:, :, :-1] @ S0 + Bm[:, :, :-1]], 2)
    return starts, A[:, :, -1] @ S + Bm[:, :, -1]


class FastAttention(nn.Module):
    """Causal Fastformer: running softmax-weighted means for the global query and key."""

    LOGIT_CLAMP = 15.0   # keeps exp() of the pooling logits finite in float32 running sums

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, H = cfg.d_model, cfg.n_head
        self.qkv = nn.Linear(D, 3 * D, bias=False)
        self.wq = nn.Parameter(torch.randn(H, cfg.d_head) * 0.02)
        self.wk = nn.Parameter(torch.randn(H, cfg.d_head) * 0.02)
        self.conv = ShortConv(3 * D, cfg.conv_size) if cfg.conv_size > 1 else None
        self.out = nn.Linear(D, D, bias=False)

    def state_shapes(self):
        c = self.cfg
        shapes = {"qnum": (c.n_head, c.d_head), "qden": (c.n_head,), "knum": (c.n_head, c.d_head),
                  "kden": (c.n_head,)}
        if self.conv is not None:
            shapes["conv"] = (c.conv_size - 1, 3 * c.d_model)
        return shapes

    def forward(self, x, st, pos):
        cfg = self.cfg
        B, T, D = x.shape
        H, d = cfg.n_head, cfg.d_head
        qkv = self.qkv(x)
        new = {}
        if self.conv is not None:
            qkv, new["conv"] = self.conv(qkv, st["conv"])
        with torch.autocast(device_type=x.device.type, enabled=False):
            qkv = qkv.float().reshape(B, T, 3, H, d).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scale = 1.0 / math.sqrt(d)
            aq = torch.exp(((q * self.wq[:, None]).sum(-1) * scale).clamp(-self.LOGIT_CLAMP, self.LOGIT_CLAMP))
            qnum = st["qnum"].unsqueeze(2) + (aq.unsqueeze(-1) * q).cumsum(2)
            qden = st["qden"].unsqueeze(2) + aq.cumsum(2)
            gq = qnum / qden.unsqueeze(-1)                               # global query at t
            p = gq * k
            ak = torch.exp(((p * self.wk[:, None]).sum(-1) * scale).clamp(-self.LOGIT_CLAMP, self.LOGIT_CLAMP))
            knum = st["knum"].unsqueeze(2) + (ak.unsqueeze(-1) * p).cumsum(2)
            kden = st["kden"].unsqueeze(2) + ak.cumsum(2)
            gk = knum / kden.unsqueeze(-1)
            y = gk * v + gq
        new.update({"qnum": qnum[:, :, -1], "qden": qden[:, :, -1], "knum": knum[:, :, -1], "kden": kden[:, :, -1]})
        y = y.transpose(1, 2).reshape(B, T, D).type_as(x)
        return self.out(y), new, ak / kden


class SoftmaxAttention(nn.Module):
    """Causal softmax attention with RoPE; its 'state' is a KV cache (no fixed size)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D = cfg.d_model
        self.qkv = nn.Linear(D, 3 * D, bias=False)
        self.out = nn.Linear(D, D, bias=False)

    def state_shapes(self):
        return {}

    def forward(self, x, st, pos, n_context=0):
        """Treats the first n_context positions as context whose outputs the caller drops."""
        cfg = self.cfg
        B, T, D = x.shape
        H, d = cfg.n_head, cfg.d_head
        q, k, v = self.qkv(x).reshape(B, T, 3, H, d).permute(2, 0, 3, 1, 4)
        t = torch.arange(T, device=x.device, dtype=torch.float32)
        q, k = rope(q, t, cfg.rope_base), rope(k, t, cfg.rope_base)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-1, -2)) / math.sqrt(d)
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            y = att.masked_fill(~mask, float("-inf")).softmax(-1) @ v
        y = y.transpose(1, 2).reshape(B, T, D)
        return self.out(y), {}, None


def rope(x, positions, base):
    """Rotary embedding of x [..., T, d] at the given float positions [T] (relative use only)."""
    d = x.shape[-1]
    inv = 1.0 / (base ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d))
    ang = positions[:, None] * inv[None]
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class LocalAttention(nn.Module):
    """Causal softmax attention over a sliding window: each token sees itself and the W tokens
    before it. Linear-attention mixers blur the recent past over the whole file; these few
    layers give the model exact local context. The state is the last W keys and values
    (before RoPE: rotations are applied by index inside the window, so positions stay small
    at any file length)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, I = cfg.d_model, cfg.inner
        G = cfg.local_kv_heads or cfg.n_head
        assert cfg.n_head % G == 0, "local_kv_heads must divide the query heads"
        self.kv_width = G * cfg.d_head
        self.query_block = None      # the blocked form's query block (None: the window; see local_attention)
        # on the GPU, the blocked form's attention by F.scaled_dot_product_attention (train.py
        # --exact-windows: written out in float32, as the exported graphs compute it)
        self.qkv = nn.Linear(D, I + 2 * self.kv_width, bias=False)
        self.out = nn.Linear(I, D, bias=False)

    fused_on_gpu = True

    def state_shapes(self):
        return {"k": (self.cfg.window, self.kv_width), "v": (self.cfg.window, self.kv_width)}

    def forward(self, x, st, pos):
        cfg = self.cfg
        B, T, D = x.shape
        H, d, W = cfg.n_head, cfg.d_head, cfg.window
        q, k, v = self.qkv(x).split([cfg.inner, self.kv_width, self.kv_width], dim=-1)
        keys = torch.cat([st["k"].to(k.dtype), k], dim=1)               # [B, W + T, D]
        vals = torch.cat([st["v"].to(v.dtype), v], dim=1)
        new = {"k": keys[:, T:].float(), "v": vals[:, T:].float()}
        if cfg.graph_form:
            y = local_attention_direct(q, keys, vals, pos, H, W, cfg.rope_base)
        else:
            fused = self.fused_on_gpu and x.is_cuda and hasattr(F, "scaled_dot_product_attention")
            y = local_attention(q, keys, vals, pos, H, W, cfg.rope_base, self.query_block,
                                F.scaled_dot_product_attention if fused else None)
        return self.out(y.type_as(x)), new, None


def mask_bias(mask):
    """0 where `mask` holds, -inf elsewhere (to add to attention scores)."""
    return torch.zeros(mask.shape, device=mask.device).masked_fill(~mask, float("-inf"))


def local_attention(q, keys, vals, pos, H, W, base, block=None, attend=None):
    """q [B, T, H d]; keys, vals [B, W + T, G d] (the cached W, then the chunk's; G key/value heads,
    each shared by H / G consecutive query heads); pos [B] tokens before the chunk (cache slots for
    tokens before the file start are masked). Query blocks of `block` tokens (default W; it must
    divide W) attend to the W + block keys that end with their own block: O(T (W + block)), not
    O(T^2). Training uses block = W (few large blocks); reading a long window on the CPU, a small
    block (fewer keys per query, less padding of a short chunk).

    attend: None, the attention written out in float32 (what the graphs export); or a function
    (q [N, H, b, d], k and v [N, H, L, d], mask [N, 1, b, L]) -> [N, H, b, d] with the semantics
    of F.scaled_dot_product_attention, which the GPU trainer passes (its fused kernels in bf16:
    the float32 scores of a 512-token window are ~2 GB per block at 32 x 2,048 tokens)."""
    b = block or W
    assert W % b == 0, "the query block must divide the window"
    B, T, D = q.shape
    d = D // H
    G = keys.shape[-1] // d
    qp = pad_time(q, b, 1)
    n = qp.shape[1] // b
    kp, vp = pad_time(keys, b, 1), pad_time(vals, b, 1)                 # [B, W + n b, G d]
    idx = torch.arange(kp.shape[1], device=q.device, dtype=torch.float32)
    L = W + b                                                           # keys per query block
    span = (torch.arange(n, device=q.device)[:, None] * b + torch.arange(L, device=q.device)[None, :])   # [n, L]
    heads = lambda t, S, h: t.reshape(B, S, h, d).transpose(1, 2)       # noqa: E731
    qh = rope(heads(qp, n * b, H), idx[W:], base).reshape(B, G, H // G, n, b, d)
    kh = rope(heads(kp, W + n * b, G), idx, base)                       # [B, G, W + n b, d]
    kw = kh[:, :, span.reshape(-1)].reshape(B, G, 1, n, L, d)
    vw = heads(vp, W + n * b, G)[:, :, span.reshape(-1)].reshape(B, G, 1, n, L, d)
    if attend is not None:
        # query blocks as the batch, key/value heads repeated for their query heads
        blocks = lambda t, rows: t.expand(B, G, H // G, n, rows, d).permute(0, 3, 1, 2, 4, 5).reshape(B * n, H, rows, d)   # noqa: E731
        mask = window_mask(b, L, W, span, pos)
        y = attend(blocks(qh, b), blocks(kw, L), blocks(vw, L), mask.reshape(B * n, 1, b, L))
        y = y.float().reshape(B, n, H, b, d).transpose(1, 2).reshape(B, H, n * b, d)[:, :, :T]
        return y.transpose(1, 2).reshape(B, T, D)
    with torch.autocast(device_type=q.device.type, enabled=False):
        att = (qh.float() @ kw.float().transpose(-1, -2)) / math.sqrt(d)   # [B, G, H/G, n, b, L]
        mask = window_mask(b, L, W, span, pos)
        # an additive mask made once for all heads: ONNX Runtime's Where broadcast over the heads
        # cost the CPU reading graph 2.5x the softmax
        att = (att + mask_bias(mask)[:, None, None]).softmax(-1)
        y = att @ vw.float()                                            # [B, G, H/G, n, b, d]
    y = y.reshape(B, H, n * b, d)[:, :, :T]
    return y.transpose(1, 2).reshape(B, T, D)


def window_mask(b, L, W, span, pos):
    """[B, n, b, L]: which of the L keys of its query block each query sees (within W before it,
    and not before the file's start); span [n, L] the keys' slots, pos [B] tokens before the chunk."""
    r = torch.arange(b, device=span.device)[:, None]
    c = torch.arange(L, device=span.device)[None, :]
    band = (c <= r + W) & (c >= r)                                      # key within W before the query
    real = span[None] >= (W - pos.to(span.device).long())[:, None, None]       # [B, n, L]
    return band[None, None] & real[:, :, None, :]


def local_attention_direct(q, keys, vals, pos, H, W, base):
    """local_attention for a short chunk: every query against all W + T keys, masked (no
    padding to whole windows, so a single token costs one row)."""
    B, T, D = q.shape
    d = D // H
    G = keys.shape[-1] // d
    idx = torch.arange(keys.shape[1], device=q.device, dtype=torch.float32)
    qh = rope(q.reshape(B, T, H, d).transpose(1, 2), idx[W:], base).reshape(B, G, H // G, T, d)
    kh = rope(keys.reshape(B, -1, G, d).transpose(1, 2), idx, base).unsqueeze(2)   # [B, G, 1, W + T, d]
    vh = vals.reshape(B, -1, G, d).transpose(1, 2).unsqueeze(2)
    with torch.autocast(device_type=q.device.type, enabled=False):
        att = (qh.float() @ kh.float().transpose(-1, -2)) / math.sqrt(d)      # [B, G, H/G, T, W + T]
        r = torch.arange(T, device=q.device)[:, None]
        a = torch.arange(keys.shape[1], device=q.device)[None, :]
        band = (a <= r + W) & (a >= r)
        real = a[None] >= (W - pos.to(q.device).long())[:, None, None]         # [B, 1, W + T]
        mask = band[None] & real
        y = (att + mask_bias(mask)[:, None, None]).softmax(-1) @ vh.float()
    return y.reshape(B, H, T, d).transpose(1, 2).reshape(B, T, D)


class HeadSplit(nn.Module):
    """A layer whose heads are split: n_head - local_heads recurrent heads (Flow-Attention or the
    delta rule) and local_heads sliding-window softmax heads, side by side on the same input, so
    every layer sees the last tokens exactly and the whole file through the recurrent heads."""

    LOCAL = "local_"   # prefix of the window heads' state tensors

    def __init__(self, cfg, arch):
        super().__init__()
        H, L = cfg.n_head, cfg.local_heads
        assert 0 < L < H, "local_heads must leave recurrent heads"
        base = dict(cfg.to_dict(), head_dim=cfg.d_head, local_heads=0)
        self.main = MIXERS[arch](Config.from_dict(dict(base, n_head=H - L)))
        self.local = LocalAttention(Config.from_dict(dict(base, n_head=L)))

    def state_shapes(self):
        return {**self.main.state_shapes(), **{self.LOCAL + k: s for k, s in self.local.state_shapes().items()}}

    def forward(self, x, st, pos):
        p = self.LOCAL
        y, new, scores = self.main(x, {k: v for k, v in st.items() if not k.startswith(p)}, pos)
        y_local, new_local, _ = self.local(x, {k[len(p):]: v for k, v in st.items() if k.startswith(p)}, pos)
        new.update({p + k: v for k, v in new_local.items()})
        return y + y_local, new, scores


MIXERS = {"flowformer": FlowAttention, "deltanet": DeltaRule, "fastformer": FastAttention,
          "transformer": SoftmaxAttention,
          "local": LocalAttention}


# ----------------------------------------------------------------------------- the LM

class Block(nn.Module):
    def __init__(self, cfg, mixer):
        super().__init__()
        self.norm1 = RMSNorm(cfg.d_model)
        split = cfg.local_heads > 0 and mixer in ("flowformer", "deltanet")
        self.mixer = HeadSplit(cfg, mixer) if split else MIXERS[mixer](cfg)
        self.norm2 = RMSNorm(cfg.d_model)
        hidden = cfg.mlp_mult * cfg.d_model
        self.up = nn.Linear(cfg.d_model, hidden, bias=False)
        self.down = nn.Linear(hidden, cfg.d_model, bias=False)

    def forward(self, x, st, pos):
        y, new, scores = self.mixer(self.norm1(x), st, pos)
        x = x + y
        x = x + self.down(F.gelu(self.up(self.norm2(x))))
        return x, new, scores


class LM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(self.layer_config(i), self.mixer_of(i)) for i in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.d_model)
        self.apply(self._init)
        for name, p in self.named_parameters():          # GPT-2 style scaled residual init
            if name.endswith("out.weight") or name.endswith("down.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def layer_config(self, layer):
        """The config a layer is built from: the model's, with its own window (local_windows) or,
        in a Flow-Attention block, its own heads (flow_heads)."""
        cfg = self.cfg
        if cfg.flow_heads and self.mixer_of(layer) == "flowformer":
            assert not cfg.local_heads, "flow_heads with split heads (local_heads) is not built"
            assert cfg.inner % cfg.flow_heads == 0, "flow_heads must divide the heads' width"
            return Config.from_dict(dict(cfg.to_dict(), n_head=cfg.flow_heads, head_dim=cfg.inner // cfg.flow_heads))
        if not cfg.local_windows or self.mixer_of(layer) != "local":
            return cfg
        assert len(cfg.local_windows) == len(cfg.local_layers), "one window per local layer"
        return Config.from_dict(dict(cfg.to_dict(), window=cfg.local_windows[list(cfg.local_layers).index(layer)]))

    def mixer_of(self, layer):
        local = self.cfg.arch != "transformer" and layer in self.cfg.local_layers
        return "local" if local else self.cfg.arch

    def num_params(self):
        return sum(p.numel() for p in self.parameters())

    # ---- state

    def state_layout(self):
        """[(name, shape)] of every state tensor (without batch), in packing order."""
        layout = [("pos", (1,)), ("last_hidden", (self.cfg.d_model,))]
        for i, blk in enumerate(self.blocks):
            layout += [(f"layer{i}.{k}", tuple(s)) for k, s in blk.mixer.state_shapes().items()]
        return layout

    def state_size(self):
        return sum(math.prod(s) for _, s in self.state_layout())

    def init_state(self, batch, device=None):
        return {n: torch.zeros((batch,) + s, device=device) for n, s in self.state_layout()}

    def pack_state(self, st):
        return torch.cat([st[n].reshape(st[n].shape[0], -1) for n, _ in self.state_layout()], dim=1)

    def unpack_state(self, flat):
        out, off = {}, 0
        for n, s in self.state_layout():
            size = math.prod(s)
            out[n] = flat[:, off:off + size].reshape((flat.shape[0],) + s)
            off += size
        return out

    # ---- forward

    def hidden(self, tokens, state=None):
        """tokens [B, T] -> final normed hidden [B, T, D], new state, per-layer scores."""
        B, T = tokens.shape
        if state is None:
            state = self.init_state(B, tokens.device)
        pos = state["pos"][:, 0]
        x = self.embed(tokens)
        new_state = {"pos": state["pos"] + T}
        scores = []
        for i, blk in enumerate(self.blocks):
            st = {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(f"layer{i}.")}
            x, new, sc = blk(x, st, pos)
            new_state.update({f"layer{i}.{k}": v for k, v in new.items()})
            scores.append(sc)
        h = self.norm(x)
        new_state["last_hidden"] = h[:, -1].float()
        return h, new_state, scores

    def logits(self, h):
        return F.linear(h, self.embed.weight)

    def forward(self, tokens, state=None):
        h, new_state, scores = self.hidden(tokens, state)
        return self.logits(h), new_state

    def score_chunk(self, tokens, state):
        """What the exported graph computes (batch 1 kept here): last logits, new state,
        importance (mean over layers and heads of each layer's score) and surprisal in bits."""
        h, new_state, scores = self.hidden(tokens, state)
        prev = torch.cat([state["last_hidden"].unsqueeze(1).to(h.dtype), h], dim=1)   # [B, T+1, D]
        logits = self.logits(prev).float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        surprisal = -logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1) / math.log(2.0)
        layer_scores = [s.mean(1) for s in scores if s is not None]
        # a model of window layers only (an ablation: no recurrent block) has no scores
        importance = torch.stack(layer_scores, 0).mean(0) if layer_scores else torch.zeros_like(surprisal)   # [B, T]
        return logits[:, -1], new_state, importance, surprisal
