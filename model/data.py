"""Corpus packs (model/corpus/build.py output) -> token documents for training and evaluation.

A training document is the files of one package, in order, each as
`<fim_prefix> text <end_of_text>` (or, for a fraction of files, the fill-in-the-middle form
`<fim_prefix> prefix <fim_suffix> suffix <fim_middle> middle <end_of_text>`), up to
DOC_TOKENS tokens, so the model reads long contexts with its state carried. Evaluation
documents are single files in plain form, as the editor reads them.

  python3 data.py --tokenizer assets/tokenizer.json --out DIR train-*.jsonl.xz val.jsonl.xz
writes DIR/{train,val,val_long}.tokens.npy (uint16) and .docs.npy (document start offsets).
"""
import argparse
import json
import os
import random

import numpy as np

from tokenizer import read_jsonl_xz

DOC_TOKENS = 65536          # a package's files are packed into documents of about this size
FIM_RATE = 0.3
SUFFIX_LINES = 32           # the engine sends at most this many lines after the cursor


def special_ids(tok):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "contract.json")) as f:
        roles = json.load(f)["special_tokens"]
    return {role: tok.token_to_id(text) for role, text in roles.items()}


def fim_split(text, rnd):
    """Cursor somewhere in the file; middle = rest of a line and up to 8 more lines (or a
    few lines from a line start); suffix = the next SUFFIX_LINES lines; the rest is dropped."""
    lines = text.splitlines(keepends=True)
    if len(lines) < 3:
        return None
    i = rnd.randrange(len(lines))
    col = rnd.randrange(len(lines[i])) if rnd.random() < 0.5 and len(lines[i]) > 1 else 0
    n_mid = rnd.randint(1, 8)
    prefix = "".join(lines[:i]) + lines[i][:col]
    middle = lines[i][col:] + "".join(lines[i + 1:i + n_mid])
    suffix = "".join(lines[i + n_mid:i + n_mid + SUFFIX_LINES])
    return prefix, middle, suffix


def file_segments(text, rnd, fim_rate):
    """The strings to tokenise for one file, and its form: plain [text] or fim [prefix, suffix, middle]."""
    parts = fim_split(text, rnd) if rnd.random() < fim_rate else None
    if parts is None:
        return "plain", [text]
    prefix, middle, suffix = parts
    return "fim", [prefix, suffix, middle]


def assemble(sp, form, ids):
    if form == "plain":
        return [sp["fim_prefix"]] + ids[0] + [sp["end_of_text"]]
    prefix, suffix, middle = ids
    return ([sp["fim_prefix"]] + prefix + [sp["fim_suffix"]] + suffix + [sp["fim_middle"]] + middle
            + [sp["end_of_text"]])


def build(tok, files, fim_rate, pack, seed=0):
    """Returns (tokens uint16, doc starts int64). pack=True joins a package's files."""
    rnd = random.Random(seed)
    sp = special_ids(tok)
    docs, cur, cur_src = [], [], None
    for path in files:
        recs = list(read_jsonl_xz(path))
        forms = [file_segments(r["text"], rnd, fim_rate) for r in recs]
        flat = [seg for _, segs in forms for seg in segs]
        encs = iter(tok.encode_batch(flat, add_special_tokens=False))   # all cores
        for rec, (form, segs) in zip(recs, forms):
            ids = assemble(sp, form, [next(encs).ids for _ in segs])
            if not pack or rec["src"] != cur_src or len(cur) + len(ids) > DOC_TOKENS:
                if cur:
                    docs.append(np.array(cur, dtype=np.uint16))
                cur, cur_src = [], rec["src"]
            cur.extend(ids)
    if cur:
        docs.append(np.array(cur, dtype=np.uint16))
    starts = np.cumsum([0] + [len(d) for d in docs[:-1]]).astype(np.int64)
    return np.concatenate(docs), starts


def build_eval(tok, val_file, long_only):
    texts = [r["text"] for r in read_jsonl_xz(val_file) if r.get("long") or not long_only]
    encs = tok.encode_batch(texts, add_special_tokens=False)
    return eval_arrays(special_ids(tok), [e.ids for e in encs], [len(t.encode("utf-8")) for t in texts])


def eval_arrays(sp, id_lists, nbytes):
    """Evaluation documents (single files in plain form): tokens, starts, bytes per file."""
    docs = [np.array([sp["fim_prefix"]] + ids + [sp["end_of_text"]], dtype=np.uint16) for ids in id_lists]
    starts = np.cumsum([0] + [len(d) for d in docs[:-1]]).astype(np.int64)
    return np.concatenate(docs), starts, np.array(nbytes, dtype=np.int64)


def save_eval(out, name, arrays):
    t, s, nb = arrays
    np.save(os.path.join(out, f"{name}.tokens.npy"), t)
    np.save(os.path.join(out, f"{name}.docs.npy"), s)
    np.save(os.path.join(out, f"{name}.bytes.npy"), nb)
    print(f"{name}: {len(t) / 1e6:.2f}M tokens in {len(s)} files, {nb.sum() / 1e6:.1f} MB")


def eval_from_ids(path, out):
    """The evaluation arrays from ids made by the engine's tokenizer (node out/bench/tokenIds.js
    --jsonl), where Python has no `tokenizers`: a CPU-only machine evaluating shipped weights."""
    import export   # its special-token ids from tokenizer.json, without the `tokenizers` package
    sp = export.special_token_ids(export.TOKENIZER_PATH, export.load_contract())
    with open(path) as f:
        files = json.load(f)["files"]
    os.makedirs(out, exist_ok=True)
    for name, long_only in (("val", False), ("val_long", True)):
        chosen = [d for d in files if d["long"] or not long_only]
        save_eval(out, name, eval_arrays(sp, [d["ids"] for d in chosen], [d["bytes"] for d in chosen]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer")
    ap.add_argument("--out", required=True)
    ap.add_argument("--fim-rate", type=float, default=FIM_RATE)
    ap.add_argument("--eval-ids", help="only the evaluation arrays, from node out/bench/tokenIds.js --jsonl output")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    if a.eval_ids:
        return eval_from_ids(a.eval_ids, a.out)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(a.tokenizer)
    os.makedirs(a.out, exist_ok=True)
    train = [f for f in a.files if "train" in os.path.basename(f)]
    val = [f for f in a.files if os.path.basename(f).startswith("val")][0]
    t, s = build(tok, train, a.fim_rate, pack=True)
    np.save(os.path.join(a.out, "train.tokens.npy"), t)
    np.save(os.path.join(a.out, "train.docs.npy"), s)
    print(f"train: {len(t) / 1e6:.1f}M tokens in {len(s)} documents")
    for name, long_only in (("val", False), ("val_long", True)):
        save_eval(a.out, name, build_eval(tok, val, long_only))


if __name__ == "__main__":
    main()
