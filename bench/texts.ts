// Benchmark inputs of a given size, made of real code: the shipped sample file, repeated as
// needed and cut at a line end (so the file ends where a user would type a new line).
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
