// Token ids by the engine's tokenizer, for the model side on machines without Python's
// `tokenizers` (the ids are the trainer's: test/engine checks them against its fixture).
//   node out/bench/tokenIds.js [--model DIR] --out FILE file ...
//     one JSON array: each file as a document (fim_prefix, its text, end_of_text); for
//     model/export.py --calibration-tokens
//   node out/bench/tokenIds.js [--model DIR] --jsonl FILE --out FILE
//     the records of a corpus piece (xz -dc val.jsonl.xz > val.jsonl) as
//     {"files": [{"ids", "bytes", "long"}]}; for model/data.py --eval-ids
import * as fs from 'fs';
import * as path from 'path';
import { LineTokenizer } from '../src/engine/tokenizer';

function main(argv: string[]): void {
  let model = 'models/flowformer';
  let out = '';
  let jsonl = '';
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--model') model = argv[++i];
    else if (argv[i] === '--out') out = argv[++i];
    else if (argv[i] === '--jsonl') jsonl = argv[++i];
    else files.push(argv[i]);
  }
  if (!out || (files.length === 0) === !jsonl) throw new Error('usage: tokenIds.js [--model DIR] --out FILE (file ... | --jsonl FILE)');
  const manifest = JSON.parse(fs.readFileSync(path.join(model, 'manifest.json'), 'utf8'));
  const tok = LineTokenizer.load(path.join(model, manifest.files.tokenizer));
  if (jsonl) {
    const records = fs.readFileSync(jsonl, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
    const docs = records.map((r: { text: string; long?: boolean }) =>
      ({ ids: tok.encodeText(r.text), bytes: Buffer.byteLength(r.text), long: Boolean(r.long) }));
    fs.writeFileSync(out, JSON.stringify({ files: docs }));
    console.log(`${out}: ${docs.length} files, ${docs.reduce((n, d) => n + d.ids.length, 0)} tokens`);
    return;
  }
  const { fim_prefix: start, end_of_text: end } = manifest.special_tokens;
  const ids: number[] = [];
  for (const f of files) {
    ids.push(start);
    for (const id of tok.encodeText(fs.readFileSync(f, 'utf8').replace(/\r\n/g, '\n'))) ids.push(id);
    ids.push(end);
  }
  fs.writeFileSync(out, JSON.stringify(ids));
  console.log(`${out}: ${ids.length} tokens from ${files.length} files`);
}

main(process.argv.slice(2));
