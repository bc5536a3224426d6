// Choosing the next token: greedy, or temperature with nucleus (top-p) sampling, with an
// optional mask (token healing, banned special tokens) and a seeded generator for tests.

export type Rng = () => number;

/** mulberry32: small, fast, seedable. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PickOptions {
  temperature: number;
  topP: number;
  rng: Rng;
  /** Only these ids may be picked (undefined: all not banned). */
  allowed?: (id: number) => boolean;
  banned?: Set<number>;
}

export function pickToken(logits: Float32Array, o: PickOptions): number {
  const ok = (id: number) => !(o.banned && o.banned.has(id)) && (!o.allowed || o.allowed(id));
  let best = -1, bestL = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i];
    if (l > bestL && ok(i)) { bestL = l; best = i; }
  }
  if (best < 0) throw new Error('no token is allowed');
  if (!(o.temperature > 0)) return best;
  // candidates within a factor 1e-6 of the best probability; the rest cannot matter for top-p < 1
  const cut = bestL - o.temperature * Math.log(1e6);
  const ids: number[] = [];
  const ps: number[] = [];
  let z = 0;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] < cut || !ok(i)) continue;
    const p = Math.exp((logits[i] - bestL) / o.temperature);
    ids.push(i); ps.push(p); z += p;
  }
  const order = ids.map((_, i) => i).sort((a, b) => ps[b] - ps[a]);
  const topP = o.topP > 0 && o.topP < 1 ? o.topP : 1;
  let keep = 0, mass = 0;
  for (const i of order) { keep++; mass += ps[i] / z; if (mass >= topP) break; }
  const kept = order.slice(0, keep);
  const total = kept.reduce((s, i) => s + ps[i], 0);
  let r = o.rng() * total;
  for (const i of kept) { r -= ps[i]; if (r <= 0) return ids[i]; }
  return ids[kept[kept.length - 1]];
}

/** Probabilities of the k most likely ids. */
export function topK(logits: Float32Array, k: number, skip?: Set<number>): { id: number; p: number }[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - max);
  const best: { id: number; l: number }[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (skip && skip.has(i)) continue;
    const l = logits[i];
    if (best.length < k || l > best[best.length - 1].l) {
      best.push({ id: i, l });
      best.sort((a, b) => b.l - a.l);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => ({ id: b.id, p: Math.exp(b.l - max) / z }));
}
