// UTF-8 <-> UTF-16 bookkeeping. The tokenizer works on UTF-8 bytes; VS Code counts UTF-16
// code units. Token boundaries can fall inside a character (byte-level BPE splits emoji),
// so byte offsets are mapped up to the next character boundary ("ceil").

/** UTF-8 length of each UTF-16 unit position: returns utf16 offset for each byte offset 0..nBytes (ceil). */
export function byteToUtf16Map(text: string): { map: Uint32Array; nBytes: number } {
  let nBytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) nBytes += 1;
    else if (c < 0x800) nBytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) { nBytes += 4; i++; }
    else nBytes += 3; // BMP char or a lone surrogate (encoded as U+FFFD, 3 bytes)
  }
  const map = new Uint32Array(nBytes + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let len: number, units = 1;
    if (c < 0x80) len = 1;
    else if (c < 0x800) len = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) { len = 4; units = 2; }
    else len = 3;
    map[b] = i;
    for (let k = 1; k < len; k++) map[b + k] = i + units; // inside a character: round up
    b += len;
    i += units - 1;
  }
  map[nBytes] = text.length;
  return { map, nBytes };
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

const decoder = new TextDecoder('utf-8', { fatal: false });
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Length of the longest prefix of `bytes` that ends on a complete UTF-8 character. */
export function completeUtf8Prefix(bytes: Uint8Array, n = bytes.length): number {
  let i = n;
  // walk back over at most 3 continuation bytes to the lead byte
  let back = 0;
  while (i > 0 && back < 4 && (bytes[i - 1] & 0xc0) === 0x80) { i--; back++; }
  if (i === 0) return back === 0 ? n : 0;
  const lead = bytes[i - 1];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return back + 1 >= need ? n : i - 1;
}
