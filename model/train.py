"""Train one Flowstate LM. One GPU: `python3 train.py ...`; several: `torchrun --nproc_per_node N train.py ...`.

Each batch row reads whole documents (a package's files, see data.py) in windows of --seq
tokens; the recurrent state is carried from one window to the next of the same document
(detached), and reset at a new document, so the model learns to use whole-file context.
Many short rows, not a few long ones: with the same tokens per step, 32 rows of 2,048 tokens
train far better than 8 rows of 8,192 (run 3 vs run 2, model/results: 1.30 vs 1.54 bits per
byte on long files after fewer tokens), since a step then sees 32 documents, not 8, and the
next steps see the same ones again; the carried state still spans whole documents.
bf16 compute, float32 recurrent sums (model.py). Resumable: --resume DIR/ckpt.pt.
Writes OUT/ckpt.pt (every --save-minutes and at the end) and OUT/loss.csv.
"""
import argparse
import csv
import math
import os
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from model import LM, Config, LocalAttention

PAD_TARGET = -100


class DocumentRows:
    """B rows, each walking its own sequence of documents window by window."""

    def __init__(self, tokens, starts, rows, seq, seed, row_offset, row_stride):
        self.tokens, self.seq = tokens, seq
        self.ends = np.append(starts[1:], len(tokens))
        self.starts = starts
        order = np.random.RandomState(seed).permutation(len(starts))
        self.queues = [order[row_offset + r::row_stride] for r in range(rows)]
        self.qpos = [0] * rows
        self.offset = [int(starts[q[0]]) for q in self.queues]

    def state_dict(self):
        return {"qpos": list(self.qpos), "offset": list(self.offset)}

    def load_state_dict(self, d):
        self.qpos, self.offset = list(d["qpos"]), list(d["offset"])

    def _doc(self, r):
        q = self.queues[r]
        return q[self.qpos[r] % len(q)]

    def next(self):
        """Returns inputs [B, seq], targets [B, seq] and a mask of rows that start a new document."""
        B, W = len(self.queues), self.seq
        inp = np.zeros((B, W), dtype=np.int64)
        tgt = np.full((B, W), PAD_TARGET, dtype=np.int64)
        fresh = np.zeros(B, dtype=bool)
        for r in range(B):
            d = self._doc(r)
            if self.offset[r] >= self.ends[d] - 1:          # document done: the next one
                self.qpos[r] += 1
                d = self._doc(r)
                self.offset[r] = int(self.starts[d])
            fresh[r] = self.offset[r] == self.starts[d]
            a = self.offset[r]
            b = min(a + W + 1, int(self.ends[d]))
            chunk = self.tokens[a:b].astype(np.int64)
            n = len(chunk) - 1
            inp[r, :n] = chunk[:-1]
            tgt[r, :n] = chunk[1:]
            self.offset[r] = a + n
        return torch.from_numpy(inp), torch.from_numpy(tgt), torch.from_numpy(fresh)


def lr_at(step, total, peak, warmup, time_frac=0.0):
    """Warmup, then cosine to 10%; progress is by steps or by the time budget, whichever is
    further along, so a run stopped by its time limit still ends annealed."""
    if step < warmup:
        return peak * (step + 1) / warmup
    p = min(1.0, max((step - warmup) / max(1, total - warmup), time_frac))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def load_init(lm, path):
    """Copy another run's weights into lm. A local layer with fewer key/value heads than the
    source's gets each shared head as the mean of the source heads it replaces (the mean-pooling
    of GQA uptraining), so a run can widen its window at the same state size without starting
    over. A Flow-Attention layer of the source may become a local layer here: its queries and
    pooled keys and values carried over, its short convolution dropped, and its output projection
    zero, so the block starts as the identity (carried, that projection read the window's outputs
    as noise: run 7's Flowformer with four of its blocks turned into windows read 7.96 nats per
    token at the start, 2.92 with those outputs zero, 1.27 before). An output gate the source
    lacks (--flow-gate) starts from its own initialisation. So a run can change the mix of blocks
    and keep everything else it learnt. Returns what to record: the source and its training."""
    src = torch.load(path, map_location="cpu")
    weights = src.get("model", src)
    own = lm.state_dict()
    local = {f"blocks.{i}.mixer." for i in range(lm.cfg.n_layer) if lm.mixer_of(i) == "local"}
    dropped = {n for n in set(weights) - set(own) if n.endswith("conv.weight") and n[:-len("conv.weight")] in local}
    silenced = {n[:-len("conv.weight")] + "out.weight" for n in dropped}      # were Flow-Attention
    fresh = {n for n in set(own) - set(weights) if n.endswith("gate.weight")}
    assert set(weights) - dropped == set(own) - fresh, f"{path}: its parameters differ from this model's"
    d = lm.cfg.d_head
    for name, w in weights.items():
        if name in dropped:
            continue
        target = own[name]
        if w.shape != target.shape and name.endswith("qkv.weight"):
            inner = w.shape[0] // 3
            q, k, v = w.split(inner)
            groups = (target.shape[0] - inner) // 2 // d
            pool = lambda x: x.reshape(groups, -1, d, x.shape[-1]).mean(1).reshape(groups * d, -1)   # noqa: E731
            w = torch.cat([q, pool(k), pool(v)])
        assert w.shape == target.shape, f"{path}: {name} is {tuple(w.shape)}, this model's {tuple(target.shape)}"
        own[name] = torch.zeros_like(target) if name in silenced else w.to(target.dtype)
    lm.load_state_dict(own)
    before = src.get("training", {})
    # the source's own tokens plus those it was itself started from: the whole chain's count
    return {"init_from": os.path.basename(path), "init_tokens": before.get("tokens", 0) + before.get("init_tokens", 0),
            "init_minutes": before.get("minutes", 0) + before.get("init_minutes", 0)}


def load_teacher(path, device):
    """A trained model (finish.sh's NAME.weights.pt, or a checkpoint) to distil from, frozen."""
    src = torch.load(path, map_location="cpu")
    teacher = LM(Config.from_dict(src["config"]))
    teacher.load_state_dict({k: v.float() for k, v in src["model"].items()})
    assert teacher.cfg.arch == "transformer", "the teacher reads each window alone: a Transformer"
    return teacher.to(device).eval().requires_grad_(False)


def distillation_mask(tgt, fresh, context):
    """Positions where the teacher's prediction is worth learning from: a target there, and the
    teacher (which sees the window alone) has read at least `context` tokens of it, or the whole
    document so far (a row that starts a document)."""
    T = tgt.shape[1]
    enough = (torch.arange(T, device=tgt.device) >= context)[None, :] | fresh.to(tgt.device)[:, None]
    return (tgt != PAD_TARGET) & enough


def distillation_loss(student_logits, teacher_logits, mask, rows_per_pass=8):
    """Mean over the positions in `mask` of KL(teacher || student) between the two next-token
    distributions, in float32, a few rows at a time (the float32 [rows, T, vocab] copies are the
    memory this costs)."""
    total = student_logits.new_zeros((), dtype=torch.float32)
    for r in range(0, student_logits.shape[0], rows_per_pass):
        sl = F.log_softmax(student_logits[r:r + rows_per_pass].float(), dim=-1)
        tl = F.log_softmax(teacher_logits[r:r + rows_per_pass].float(), dim=-1)
        kl = (tl.exp() * (tl - sl)).sum(-1)
        total = total + (kl * mask[r:r + rows_per_pass]).sum()
    return total / mask.sum().clamp(min=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="flowformer")
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--delta-feature", default="silu_l2")
    ap.add_argument("--dpfp-nu", type=int, default=1)
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--local-layers", default="", help="comma-separated layers with sliding-window attention")
    ap.add_argument("--local-heads", type=int, default=0, help="sliding-window heads in every recurrent layer")
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--local-windows", default="", help="comma-separated, one window per local layer (instead of --window)")
    ap.add_argument("--local-kv-heads", type=int, default=0, help="key/value heads of a local layer (0: one per query head)")
    ap.add_argument("--flow-half-lives", default="", help="comma-separated, one per head (0: no decay)")
    ap.add_argument("--flow-gate", action="store_true", help="Flow-Attention's output gated by silu(W_g x)")
    ap.add_argument("--flow-heads", type=int, default=0, help="heads of the Flow-Attention blocks (0: --heads), "
                    "fewer and wider: a larger running sum per head")
    ap.add_argument("--seq", type=int, default=2048, help="tokens per window (the state carries across windows)")
    ap.add_argument("--batch", type=int, default=32, help="rows per GPU")
    ap.add_argument("--tokens", type=float, default=2e8, help="training tokens in all")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=22.0, help="hard stop (a checkpoint is saved)")
    ap.add_argument("--save-minutes", type=float, default=4.0)
    ap.add_argument("--data", default="/tmp/data")
    ap.add_argument("--out", default="/tmp/runs/default")
    ap.add_argument("--resume")
    ap.add_argument("--init", help="start from another run's weights (continued training; fresh optimizer)")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--exact-windows", action="store_true", help="window attention in float32 as the exported graphs "
                    "compute it, not by F.scaled_dot_product_attention (bf16 on the GPU)")
    ap.add_argument("--teacher", help="a Transformer's weights (finish.sh's NAME.weights.pt): the loss is then "
                    "(1 - d) x cross-entropy + d x KL(teacher || model) (distillation)")
    ap.add_argument("--distill", type=float, default=0.5, help="d, the distillation term's weight (with --teacher)")
    ap.add_argument("--distill-context", type=int, default=256,
                    help="distil only where the teacher has read this many tokens of its window (or the whole document)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--probe", type=int, default=0, help="time this many steps on random tokens, print tokens/s, exit")
    a = ap.parse_args()

    ddp = "WORLD_SIZE" in os.environ
    if ddp:
        dist.init_process_group("nccl")
        rank, world = dist.get_rank(), dist.get_world_size()
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    else:
        rank, world = 0, 1
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(a.seed + rank)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True

    cfg = Config(arch=a.arch, d_model=a.d_model, n_layer=a.layers, n_head=a.heads, block_size=a.block,
                 delta_feature=a.delta_feature, dpfp_nu=a.dpfp_nu, window=a.window, local_heads=a.local_heads,
                 local_kv_heads=a.local_kv_heads,
                 local_windows=tuple(int(w) for w in a.local_windows.split(",") if w != ""),
                 local_layers=tuple(int(i) for i in a.local_layers.split(",") if i != ""),
                 flow_half_lives=tuple(float(h) for h in a.flow_half_lives.split(",") if h != ""),
                 flow_gate=a.flow_gate, flow_heads=a.flow_heads)
    LocalAttention.fused_on_gpu = not a.exact_windows
    lm = LM(cfg).to(device)
    teacher = load_teacher(a.teacher, device) if a.teacher else None
    distilled = {"teacher": os.path.basename(a.teacher), "distill": a.distill,
                 "distill_context": a.distill_context} if teacher else {}
    stateful = a.arch != "transformer"
    decay = [p for n, p in lm.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in lm.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    if a.probe:   # speed only: random documents, nothing saved
        tokens = np.random.RandomState(0).randint(5, cfg.vocab_size, size=a.seq * a.batch * 4).astype(np.uint16)
        starts = np.arange(0, len(tokens), 4 * a.seq)
    else:
        tokens = np.load(os.path.join(a.data, "train.tokens.npy"), mmap_mode="r")
        starts = np.load(os.path.join(a.data, "train.docs.npy"))
    rows = DocumentRows(tokens, starts, a.batch, a.seq, a.seed, rank * a.batch, world * a.batch)
    total_steps = int(a.tokens // (a.seq * a.batch * world))
    if a.probe:
        total_steps, a.save_minutes, a.resume = a.probe + 3, 1e9, None
    step, trained_tokens, elapsed_before = 0, 0, 0.0
    state = lm.init_state(a.batch, device) if stateful else None
    resuming = bool(a.resume) and os.path.exists(a.resume)
    init_info = load_init(lm, a.init) if a.init and not resuming else {}
    if resuming:
        ck = torch.load(a.resume, map_location=device)
        lm.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, trained_tokens, elapsed_before = ck["step"], ck["tokens"], ck["elapsed"]
        rows.load_state_dict(ck["rows"][rank] if isinstance(ck["rows"], list) else ck["rows"])
        if stateful and "state" in ck:
            state = {k: v.to(device) for k, v in ck["state"].items()}
    model = torch.compile(lm) if a.compile else lm
    if ddp:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[torch.cuda.current_device()])

    if a.probe:
        a.out = os.path.join("/tmp", f"probe-{os.getpid()}")
    os.makedirs(a.out, exist_ok=True)
    log_path = os.path.join(a.out, "loss.csv")
    log = open(log_path, "a", newline="")
    writer = csv.writer(log)
    if rank == 0 and os.path.getsize(log_path) == 0:
        writer.writerow(["step", "tokens", "loss", "lr", "elapsed_s", "tokens_per_s"] + (["kl"] if teacher else []))
    if rank == 0:
        print(f"{a.arch}: {lm.num_params() / 1e6:.2f}M parameters, state {lm.state_size() * 4 / 1024:.0f} KiB, "
              f"{total_steps} steps of {a.seq * a.batch * world} tokens", flush=True)

    def save():   # called on every rank together (the rows of all ranks are gathered)
        all_rows = [rows.state_dict()]
        if ddp:
            all_rows = [None] * world
            dist.all_gather_object(all_rows, rows.state_dict())
        if rank != 0:
            return
        ck = {"model": lm.state_dict(), "optimizer": opt.state_dict(), "config": cfg.to_dict(), "step": step,
              "tokens": trained_tokens, "elapsed": elapsed_before + time.time() - t0, "rows": all_rows,
              "training": {"tokens": trained_tokens, "steps": step, "seq": a.seq, "batch": a.batch * world,
                           "lr": a.lr, "gpus": world, "minutes": (elapsed_before + time.time() - t0) / 60,
                           **init_info, **distilled}}
        if stateful:
            ck["state"] = {k: v.cpu() for k, v in state.items()}
        torch.save(ck, os.path.join(a.out, "ckpt.pt.tmp"))
        os.replace(os.path.join(a.out, "ckpt.pt.tmp"), os.path.join(a.out, "ckpt.pt"))

    t0 = last_save = last_log = time.time()
    tok_since = 0
    model.train()
    def decide():
        """Rank 0's clock decides, so every rank saves and stops at the same step."""
        flags = torch.tensor([time.time() - last_save > a.save_minutes * 60,
                              time.time() - t0 > a.minutes * 60], dtype=torch.int32, device=device)
        if ddp:
            dist.broadcast(flags, 0)
        return bool(flags[0]), bool(flags[1])

    while step < total_steps:
        want_save, out_of_time = decide()
        if out_of_time:
            break
        if want_save:
            save()
            last_save = time.time()
        if a.probe and step == 3:
            if device == "cuda":
                torch.cuda.synchronize()
            probe_t0 = time.time()
        inp, tgt, fresh = rows.next()
        inp, tgt = inp.to(device, non_blocking=True), tgt.to(device, non_blocking=True)
        if stateful:
            keep = (~fresh).to(device).float()
            state = {k: v * keep.view(-1, *([1] * (v.dim() - 1))) for k, v in state.items()}
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total_steps, a.lr, a.warmup, (time.time() - t0) / (a.minutes * 60))
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            logits, new_state = model(inp, state) if stateful else model(inp)
            loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), tgt.view(-1), ignore_index=PAD_TARGET)
            objective = loss
            if teacher is not None:   # the cross-entropy stays what is logged, comparable across runs
                with torch.no_grad():
                    teacher_logits, _ = teacher(inp)
                kl = distillation_loss(logits, teacher_logits, distillation_mask(tgt, fresh, a.distill_context))
                objective = (1 - a.distill) * loss + a.distill * kl
        opt.zero_grad(set_to_none=True)
        objective.backward()
        torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
        if stateful:
            state = {k: v.detach().float() for k, v in new_state.items()}
        n = int((tgt != PAD_TARGET).sum()) * world
        trained_tokens += n
        tok_since += n
        step += 1
        if rank == 0 and (step % 10 == 0 or step == 1):
            now = time.time()
            rate = tok_since / (now - last_log)
            writer.writerow([step, trained_tokens, f"{loss.item():.4f}", f"{opt.param_groups[0]['lr']:.2e}",
                             f"{elapsed_before + now - t0:.1f}", f"{rate:.0f}"] + ([f"{kl.item():.4f}"] if teacher else []))
            log.flush()
            if step % 50 == 0 or step == 1:
                extra = f" kl {kl.item():.3f}" if teacher else ""
                print(f"step {step}/{total_steps} loss {loss.item():.3f}{extra} {rate / 1e3:.0f}k tok/s", flush=True)
            last_log, tok_since = now, 0
    if a.probe:
        if device == "cuda":
            torch.cuda.synchronize()
        if rank == 0:
            peak = f", peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB" if device == "cuda" else ""
            print(f"PROBE {a.probe * a.seq * a.batch * world / (time.time() - probe_t0):.0f} tokens/s{peak}", flush=True)
        return
    save()
    if rank == 0:
        print(f"done: {step} steps, {trained_tokens / 1e6:.1f}M tokens, {(time.time() - t0) / 60:.1f} min", flush=True)
    if ddp:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
