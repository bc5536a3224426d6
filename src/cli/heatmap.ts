// Heat map of per-token scores over a range of lines: four discrete levels by the file's own
// quantiles (as the editor overlay bands them: banded levels read better than a continuous
// scale), rendered with ANSI background colours or returned as data for --json.
import type { TokenScores } from '../engine/api';
import type { HeatMode } from './args';

/** Level k (1..4) starts at these quantiles of the file's scores: top 50%, 25%, 10%, 3%. */
export const LEVEL_QUANTILES = [0.5, 0.75, 0.9, 0.97];
export const LEVEL_LABELS = ['top 50%', 'top 25%', 'top 10%', 'top 3%'];

/** 256-colour backgrounds per level: warm for importance, cool for surprise. */
const BACKGROUND: Record<HeatMode, number[]> = { importance: [58, 94, 166, 196], surprise: [17, 25, 91, 129] };

export function quantiles(values: ArrayLike<number>, qs: number[]): number[] {
  const v = Float64Array.from(Array.prototype.filter.call(values, (x: number) => Number.isFinite(x)) as number[]).sort();
  if (v.length === 0) return qs.map(() => Infinity);
  return qs.map((q) => v[Math.min(v.length - 1, Math.floor(q * v.length))]);
}

export function levelOf(x: number, thresholds: number[]): number {
  let l = 0;
  for (let i = 0; i < thresholds.length; i++) if (x >= thresholds[i]) l = i + 1;
  return l;
}

export interface HeatToken {
  /** 1-based column of the token's first character on its line (UTF-16), and its length there. */
  column: number;
  text: string;
  score: number;
  level: number;
}

export interface HeatLine {
  line: number; // 1-based
  text: string;
  tokens: HeatToken[];
}

/**
 * The tokens of lines [from, to] (1-based, inclusive) with their scores and levels. `scores`
 * covers at least those lines; a token across a line end is cut at it (the newline is not shown).
 */
export function heatLines(text: string, from: number, to: number, scores: TokenScores, mode: HeatMode, thresholds: number[]): HeatLine[] {
  const values = mode === 'importance' ? scores.importance : scores.surprisal;
  const out: HeatLine[] = [];
  let lineStart = 0;
  for (let n = 1; n < from; n++) {
    const nl = text.indexOf('\n', lineStart);
    if (nl < 0) return out;
    lineStart = nl + 1;
  }
  let t = 0;
  for (let n = from; n <= to; n++) {
    const nl = text.indexOf('\n', lineStart);
    const raw = text.slice(lineStart, nl < 0 ? text.length : nl);
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const lineEnd = lineStart + line.length;
    const tokens: HeatToken[] = [];
    while (t < scores.starts.length && scores.ends[t] <= lineStart && scores.starts[t] < lineStart) t++;
    for (let k = t; k < scores.starts.length && scores.starts[k] < lineEnd; k++) {
      const s = Math.max(scores.starts[k], lineStart), e = Math.min(scores.ends[k], lineEnd);
      if (e <= s) continue;
      tokens.push({ column: s - lineStart + 1, text: text.slice(s, e), score: values[k], level: levelOf(values[k], thresholds) });
    }
    out.push({ line: n, text: line, tokens });
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  return out;
}

const ESC = '\x1b[';
const RESET = `${ESC}0m`;

function paint(s: string, level: number, mode: HeatMode): string {
  if (!level) return s;
  const fg = level >= 3 ? `${ESC}97m` : '';
  return `${ESC}48;5;${BACKGROUND[mode][level - 1]}m${fg}${s}${RESET}`;
}

/** Tabs to spaces (to the next multiple of 4), so that --width counts what the terminal shows. */
function expandTabs(s: string, col: number): string {
  return s.replace(/\t/g, () => ' '.repeat(4 - (col % 4)));
}

/** One text line per heat line: line number, a bar of the line's highest level, the coloured text. */
export function renderHeatLines(lines: HeatLine[], mode: HeatMode, color: boolean, width: number): string[] {
  const gutter = String(lines.length ? lines[lines.length - 1].line : 1).length;
  const bars = ' ▂▄▆█';
  return lines.map((hl) => {
    const top = hl.tokens.reduce((m, tk) => Math.max(m, tk.level), 0);
    let body = '';
    let shown = 0;
    let pos = 1; // next column of hl.text not yet written
    const put = (s: string, level: number) => {
      if (shown >= width) return;
      let piece = expandTabs(s, shown);
      if (shown + piece.length > width) piece = piece.slice(0, Math.max(0, width - shown - 1)) + '…';
      shown += piece.length;
      body += color ? paint(piece, level, mode) : piece;
    };
    for (const tk of hl.tokens) {
      if (tk.column > pos) put(hl.text.slice(pos - 1, tk.column - 1), 0);
      put(tk.text, tk.level);
      pos = tk.column + tk.text.length;
    }
    if (pos <= hl.text.length) put(hl.text.slice(pos - 1), 0);
    return `${String(hl.line).padStart(gutter)} ${bars[top]}│ ${body}`;
  });
}

export function renderLegend(mode: HeatMode, thresholds: number[], color: boolean, unit: string): string {
  const parts = thresholds.map((th, i) => {
    const label = ` ${LEVEL_LABELS[i]} (≥ ${th.toFixed(mode === 'surprise' ? 1 : 3)}${unit}) `;
    return color ? paint(label, i + 1, mode) : `[${i + 1}]${label}`;
  });
  return `levels: ${parts.join(' ')}`;
}
