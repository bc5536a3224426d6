"""train.py then evaluate.py, as model/gpu/launch.sh and finish.sh run them, for tiny versions of
every architecture and block mix the GPU runs use: a run trains, checkpoints, and its evaluation
reads each file with the state carried across evaluate.py's chunks, giving the bits per byte that
one pass over the whole file gives (the reference: LM.score_chunk on all of it at once)."""
import csv
import json
import math
import sys

import numpy as np
import pytest
import torch

import evaluate
import train

# name -> train.py arguments (the GPU runs' flags, at a tiny size)
RUNS = {
    "flowformer-windows": ["--arch", "flowformer", "--local-layers", "1", "--window", "16", "--local-kv-heads", "1"],
    "deltanet-windows": ["--arch", "deltanet", "--local-layers", "0", "--window", "16", "--local-kv-heads", "1"],
    "deltanet-dpfp": ["--arch", "deltanet", "--delta-feature", "dpfp"],
    "fastformer-windows": ["--arch", "fastformer", "--local-layers", "0", "--window", "16", "--local-kv-heads", "1"],
    "windows-only-kv-heads": ["--arch", "deltanet", "--local-layers", "0,1", "--window", "16"],
    "transformer": ["--arch", "transformer"],
}
TINY = ["--d-model", "32", "--layers", "2", "--heads", "4", "--block", "16", "--seq", "64", "--batch", "2",
        "--tokens", str(64 * 2 * 6), "--lr", "1e-2", "--warmup", "2", "--seed", "3"]


def write_data(data):
    rnd = np.random.RandomState(0)
    data.mkdir()
    np.save(data / "train.tokens.npy", rnd.randint(5, 300, size=20000).astype(np.uint16))
    np.save(data / "train.docs.npy", np.arange(0, 20000, 2500).astype(np.int64))
    # val: two files; val_long: one of 2,500 tokens, read by evaluate.py in chunks of 1,024 on the
    # CPU (a 2k window for the Transformer), crossing the 0-2k / 2k-8k buckets
    for name, lengths in (("val", [300, 1300]), ("val_long", [2500])):
        docs = [np.concatenate([[1], rnd.randint(5, 300, size=n - 2), [0]]) for n in lengths]
        np.save(data / f"{name}.tokens.npy", np.concatenate(docs).astype(np.uint16))
        np.save(data / f"{name}.docs.npy", np.cumsum([0] + lengths[:-1]).astype(np.int64))
        np.save(data / f"{name}.bytes.npy", np.array([3 * n for n in lengths], dtype=np.int64))
    return data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("pipeline") / "data")


@pytest.mark.parametrize("name", list(RUNS))
def test_train_then_evaluate(name, data, tmp_path, monkeypatch):
    out = tmp_path / name
    monkeypatch.setattr(sys, "argv", ["train.py", *RUNS[name], *TINY, "--data", str(data), "--out", str(out)])
    train.main()
    rows = list(csv.DictReader(open(out / "loss.csv")))
    assert rows and all(math.isfinite(float(r["loss"])) for r in rows), rows
    table = tmp_path / "eval.md"
    timed = evaluate.ms_per_chunk
    monkeypatch.setattr(evaluate, "ms_per_chunk", lambda lm, device: timed(lm, device, T=256, reps=1))
    monkeypatch.setattr(sys, "argv", ["evaluate.py", "--data", str(data), "--out", str(table), f"{name}={out / 'ckpt.pt'}"])
    evaluate.main()
    row = json.load(open(tmp_path / "eval.json"))[0]
    assert row["model"] == name and row["train_tokens_m"] > 0
    assert all(math.isfinite(row[k]) and row[k] > 0 for k in ("val_bpb", "val_long_bpb", "ms_per_2k_chunk"))
    buckets = row["bits_per_token_by_position"]
    assert math.isfinite(buckets["0-2k"]) and math.isfinite(buckets["2k-8k"]) and math.isnan(buckets["8k-32k"])
    assert name in open(table).read()
    lm, _ = evaluate.load(out / "ckpt.pt", "cpu")
    if lm.cfg.arch == "transformer":
        return
    # the reference: the long file in one chunk (evaluate.py read it in chunks of 1,024)
    doc = torch.from_numpy(np.load(data / "val_long.tokens.npy").astype(np.int64))
    with torch.no_grad():
        _, _, _, sur = lm.score_chunk(doc.unsqueeze(0), lm.init_state(1, "cpu"))
    text_bits = sur[0, 1:-1].double().sum().item()
    assert abs(row["val_long_bpb"] - text_bits / (3 * 2500)) <= 1e-5 * row["val_long_bpb"]
