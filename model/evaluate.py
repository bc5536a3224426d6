"""Evaluation table: bits per byte on the validation split and its long-file subset (files over
50 KB), loss by position bucket over whole long files, time per chunk.

Recurrent models read each file from its start with the state carried across chunks; the
softmax baseline sees a 2k sliding window (stride 1k: every token has 1k..2k of context).

  python3 evaluate.py --data DIR --out eval.md NAME=CKPT [NAME=CKPT ...]
  python3 evaluate.py --merge --out eval.md A.json B.json ...   (one table from separate runs)
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from model import LM, Config, LocalAttention

BUCKETS = [(0, 2048, "0-2k"), (2048, 8192, "2k-8k"), (8192, 32768, "8k-32k"), (32768, 1 << 62, "32k+")]
CHUNK = {"cuda": 8192, "cpu": 1024}   # the blocked form's block selection grows as (T / block)^2: small on the CPU
WINDOW, STRIDE = 2048, 1024
LN2 = math.log(2.0)


def load(path, device):
    ck = torch.load(path, map_location="cpu")
    lm = LM(Config.from_dict(ck["config"]))
    lm.load_state_dict(ck["model"])
    return lm.to(device).eval(), ck.get("training", {})


@torch.no_grad()
def token_bits(lm, doc, device):
    """Surprisal in bits of doc[1:] (each token given all before it, or the 2k window)."""
    x = torch.from_numpy(doc.astype(np.int64)).to(device)
    n = len(x)
    out = torch.zeros(n, device=device)
    with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
        if lm.cfg.arch == "transformer":
            for s in range(1, n, STRIDE):
                a, b = max(0, s - (WINDOW - STRIDE)), min(n, s + STRIDE)
                logits, _ = lm(x[a:b].unsqueeze(0))
                logp = torch.log_softmax(logits[0, s - 1 - a:b - 1 - a].float(), -1)
                out[s:b] = -logp.gather(-1, x[s:b, None])[:, 0] / LN2
        else:
            state = lm.init_state(1, device)
            step = CHUNK[device]
            for s in range(0, n, step):
                _, state, _, sur = lm.score_chunk(x[s:s + step].unsqueeze(0), state)
                out[s:s + step] = sur[0].float()
    return out[1:].cpu().numpy()


def bits_per_byte(lm, tokens, starts, nbytes, device):
    ends = np.append(starts[1:], len(tokens))
    total_bits, per_pos = 0.0, [[0.0, 0] for _ in BUCKETS]
    for a, b, nb in zip(starts, ends, nbytes):
        bits = token_bits(lm, tokens[a:b], device)
        text_bits = bits[:-1]                       # the last target is end_of_text, not file bytes
        total_bits += float(text_bits.sum())
        for i, (lo, hi, _) in enumerate(BUCKETS):
            seg = text_bits[lo:hi]
            per_pos[i][0] += float(seg.sum())
            per_pos[i][1] += len(seg)
    bucket_bits = [s / n if n else float("nan") for s, n in per_pos]
    return total_bits / float(nbytes.sum()), bucket_bits


@torch.no_grad()
def ms_per_chunk(lm, device, T=2048, reps=10):
    x = torch.randint(5, lm.cfg.vocab_size, (1, T), device=device)
    state = lm.init_state(1, device)
    run = (lambda: lm(x)) if lm.cfg.arch == "transformer" else (lambda: lm.score_chunk(x, state))
    with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
        for _ in range(3):
            run()
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.time()
        for _ in range(reps):
            run()
        if device == "cuda":
            torch.cuda.synchronize()
    return (time.time() - t) / reps * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-files", type=int, default=0, help="limit the validation files (quick runs)")
    ap.add_argument("--long-only", action="store_true",
                    help="the long-file subset only (val bpb not measured): a CPU-only machine reads ~2k tokens/s")
    ap.add_argument("--merge", action="store_true", help="the arguments are .json results to put in one table")
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    # window attention in float32, as the exported graphs compute it (the trainer's fused bf16
    # kernels are for speed), so evaluations stay comparable from run to run
    LocalAttention.fused_on_gpu = False
    if a.merge:
        rows = [r for path in a.models if os.path.abspath(path) != os.path.abspath(os.path.splitext(a.out)[0] + ".json")
                for r in json.load(open(path))]
        return write_table(rows, rows[0].get("device", device) if rows else device, a.out)
    splits = {}
    for name in ("val_long",) if a.long_only else ("val", "val_long"):
        t = np.load(os.path.join(a.data, f"{name}.tokens.npy"))
        s = np.load(os.path.join(a.data, f"{name}.docs.npy"))
        nb = np.load(os.path.join(a.data, f"{name}.bytes.npy"))
        if a.max_files and len(s) > a.max_files:
            t, s, nb = t[:s[a.max_files]], s[:a.max_files], nb[:a.max_files]
        splits[name] = (t, s, nb)
    rows = []
    for spec in a.models:
        name, path = spec.split("=", 1)
        lm, training = load(path, device)
        val_bpb = bits_per_byte(lm, *splits["val"], device)[0] if "val" in splits else float("nan")
        long_bpb, buckets = bits_per_byte(lm, *splits["val_long"], device)
        rows.append({"model": name, "arch": lm.cfg.arch, "params_m": lm.num_params() / 1e6,
                     "state_kib": lm.state_size() * 4 / 1024 if lm.cfg.arch != "transformer" else None,
                     "train_tokens_m": (training.get("tokens", 0) + training.get("init_tokens", 0)) / 1e6,
                     "val_bpb": val_bpb, "val_long_bpb": long_bpb,
                     "bits_per_token_by_position": dict(zip([b[2] for b in BUCKETS], buckets)),
                     "ms_per_2k_chunk": ms_per_chunk(lm, device), "device": device})
        print(json.dumps(rows[-1]), flush=True)
        del lm
    write_table(rows, device, a.out)


def write_table(rows, device, out):
    head = "| model | params | state | train tokens | val bpb | val-long bpb | " + " | ".join(
        f"bits/token {b[2]}" for b in BUCKETS) + f" | ms / 2k-token chunk ({device}) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        st = f"{r['state_kib']:.0f} KiB" if r["state_kib"] is not None else "KV cache (2k window)"
        lines.append(f"| {r['model']} | {r['params_m']:.1f}M | {st} | {r['train_tokens_m']:.0f}M | {r['val_bpb']:.3f} | "
                     f"{r['val_long_bpb']:.3f} | " + " | ".join(f"{v:.3f}" for v in r["bits_per_token_by_position"].values())
                     + f" | {r['ms_per_2k_chunk']:.1f} |")
    table = "\n".join(lines)
    print(table)
    with open(out, "w") as f:
        f.write(table + "\n")
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
