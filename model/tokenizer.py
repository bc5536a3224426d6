"""Byte-level BPE tokenizer for Flowstate (Python `tokenizers`, on the GPU machine).

No token crosses a newline: the pre-tokenizer isolates "\n" before the byte-level split,
so every line start is a token boundary and the editor re-tokenises only touched lines.

Vocabulary: 16384 ids. The embedding and the output head are the largest matrices of a
small model (16384 x 256 = 4.2M parameters, and the head runs for every token to get
surprisal); 32k would double that cost for about 8% fewer tokens on code, 8k would save
half of it but cost more tokens per byte, so more recurrent steps per file.

  python3 tokenizer.py train --out tokenizer.json FILES.jsonl.xz...
  python3 tokenizer.py fixture --tokenizer tokenizer.json --out ids.json [--val val.jsonl.xz]
"""
import argparse
import hashlib
import json
import lzma
import os
import random

CONTRACT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "contract.json")


def special_tokens():
    with open(CONTRACT) as f:
        return list(json.load(f)["special_tokens"].values())


def read_jsonl_xz(path):
    with lzma.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def build_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split("\n", behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    return tok


def train(files, out, vocab_size, sample_mb, seed=0):
    from tokenizers import trainers, pre_tokenizers
    rnd = random.Random(seed)
    texts = []
    total = sum(os.path.getsize(f) for f in files)
    keep = min(1.0, sample_mb * 1e6 / 7.0 / total)   # xz is ~7x on this corpus
    for f in files:
        for rec in read_jsonl_xz(f):
            if rnd.random() < keep:
                texts.append(rec["text"])
    tok = build_tokenizer()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=special_tokens(),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    tok.save(out)
    chars = sum(len(t) for t in texts[:2000])
    ntok = sum(len(e.ids) for e in tok.encode_batch(texts[:2000]))
    print(f"trained on {len(texts)} files ({sum(len(t) for t in texts) / 1e6:.1f} M chars); "
          f"vocab {tok.get_vocab_size()}; {chars / ntok:.2f} chars/token on a sample")


FIXTURE_TEXTS = [
    "def main():\n    print('hello')\n",
    "line one\r\nline two\r\n\r\n\tindented with a tab\r\n",
    "café naïve résumé — “quotes” ½\n",
    "astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and emoji 😀👍🏽 🧑‍💻\n",
    "const x = {a: 1, b: [2, 3]};  // trailing   \n\n\n",
    "    \n  \t \n",
    "",
    "<|fim_prefix|>int f(int a) {<|fim_suffix|>}\n<|fim_middle|>",
    "中文注释 // 日本語 한국어\n",
    "x" * 300 + "\n" + "0123456789" * 20,
]


def fixture(tokenizer_path, out, val):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tokenizer_path)
    cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in FIXTURE_TEXTS]
    result = {"tokenizer_sha256": hashlib.sha256(open(tokenizer_path, "rb").read()).hexdigest(), "cases": cases}
    if val:
        recs = list(read_jsonl_xz(val))
        encs = tok.encode_batch([r["text"] for r in recs], add_special_tokens=False)
        # one hash per file: the JS tokenizer must reproduce every id of the validation split
        result["validation"] = [{"path": r["src"] + ":" + r["path"], "n": len(e.ids),
                                 "sha256": hashlib.sha256(",".join(map(str, e.ids)).encode()).hexdigest()}
                                for r, e in zip(recs, encs)]
        nchar = sum(len(r["text"].encode()) for r in recs)
        print(f"validation: {len(recs)} files, {nchar / sum(len(e.ids) for e in encs):.2f} bytes/token")
    with open(out, "w") as f:
        json.dump(result, f, ensure_ascii=False)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("files", nargs="+")
    t.add_argument("--out", required=True)
    t.add_argument("--vocab", type=int, default=16384)
    t.add_argument("--sample-mb", type=float, default=150)
    x = sub.add_parser("fixture")
    x.add_argument("--tokenizer", required=True)
    x.add_argument("--out", required=True)
    x.add_argument("--val")
    a = ap.parse_args()
    if a.cmd == "train":
        train(a.files, a.out, a.vocab, a.sample_mb)
    else:
        fixture(a.tokenizer, a.out, a.val)
