// Benchmark inputs of a given size, made of real code: the shipped sample file, repeated as
// needed and cut at a line end (so the file ends where a user would type a new line).
import * as fs from 'fs';
import * as path from 'path';

export const SIZES = [
  { label: '1 KB', bytes: 1024 },
  { label: '100 KB', bytes: 100 * 1024 },
  { label: '1 MB', bytes: 1024 * 1024 },
];

export function fileOfSize(sample: string, bytes: number): string {
  let text = sample;
  while (Buffer.byteLength(text) < bytes) text += '\n' + sample;
  // the sample is ASCII almost everywhere: cut by characters, then back to a line end
  let cut = text.slice(0, bytes);
  while (Buffer.byteLength(cut) > bytes) cut = cut.slice(0, -1);
  const nl = cut.lastIndexOf('\n');
  return nl > 0 ? cut.slice(0, nl + 1) : cut;
}

/**
 * A minified bundle of about `bytes` bytes: one line of real JavaScript (TypeScript's compiler,
 * a dev dependency, its whitespace runs collapsed to one space).
 */
export function minifiedOfSize(root: string, bytes: number): string | undefined {
  const file = path.join(root, 'node_modules', 'typescript', 'lib', 'typescript.js');
  if (!fs.existsSync(file)) return undefined;   // a repo copy without it (the GPU machine: carry it)
  const js = fs.readFileSync(file, 'utf8');
  let text = js.slice(0, Math.ceil(bytes * 1.3)).replace(/\s+/g, ' ');
  while (Buffer.byteLength(text) > bytes) text = text.slice(0, text.length - Math.max(1, Buffer.byteLength(text) - bytes));
  return text;
}
