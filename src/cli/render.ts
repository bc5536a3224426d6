// Text output of the CLI's reports (the --json output is the reports themselves).
import * as path from 'path';
import type { MainReport, ScoreReport } from './run';
import { renderHeatLines, renderLegend } from './heatmap';

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');

export function bytesText(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 / 1024).toFixed(1)} MiB`;
}

function rel(file: string): string {
  const r = path.relative(process.cwd(), file);
  return r && !r.startsWith('..') ? r : file;
}

interface Style { dim(s: string): string; bold(s: string): string; green(s: string): string }

function style(color: boolean): Style {
  const wrap = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { dim: wrap('2'), bold: wrap('1'), green: wrap('32') };
}

function modelLine(r: { model: MainReport['model']; provider: string; providerNote?: string }, asked: string): string {
  const m = r.model;
  // with --provider auto, CPU is an expected outcome: the full reason only when CUDA was asked for
  const note = !r.providerNote ? '' : asked === 'cuda' ? `\n  note: ${r.providerNote}` : ' (CUDA not available here; --provider cuda says why)';
  return `model ${m.name} (${m.architecture}, ${(m.parameters / 1e6).toFixed(2)}M parameters) on ${r.provider.toUpperCase()}${note}`;
}

export function renderMain(r: MainReport, color: boolean, width: number, asked: string): string {
  const st = style(color);
  const out: string[] = [];
  out.push(st.bold('Flowstate') + '  ' + modelLine(r, asked));
  out.push(`file      ${rel(r.file)}: ${n0(r.bytes)} bytes, ${n0(r.lines)} line${r.lines === 1 ? '' : 's'}`);
  out.push(`read      ${n0(r.reading.tokens)} tokens in ${(r.reading.ms / 1000).toFixed(2)} s: ${st.bold(n0(r.reading.tokensPerSecond))} tokens/s`);
  out.push(`state     ${bytesText(r.state.bytes)} per state (the whole model memory of the file); checkpoints kept: ${bytesText(r.state.checkpointBytes)}`);
  out.push(`score     ${r.bitsPerByte.toFixed(3)} bits per byte`);

  const c = r.completion;
  out.push('');
  out.push(st.bold(`completion at line ${c.line}, column ${c.column}${c.atEnd ? ' (end of file)' : ''}`) +
    st.dim(`  ${c.tokens} tokens; state at cursor ${c.msToState.toFixed(1)} ms, first token ${c.msToFirstToken.toFixed(1)} ms, total ${c.msTotal.toFixed(0)} ms; stopped by ${c.stoppedBy}`));
  // the cursor's line up to the cursor, then the completion
  const pieces = c.text.split('\n').map((p) => p.replace(/\r$/, ''));
  // blank lines at the end of a completion show as a count, not as a screen of gutters
  let blank = 0;
  while (pieces.length > 1 && !pieces[pieces.length - 1].trim()) { pieces.pop(); blank++; }
  const gutter = String(c.line + pieces.length - 1).length;
  pieces.forEach((p, i) => {
    // in a long line (minified code), the end of the line before the cursor
    const head = i === 0 ? st.dim(cutLeft(c.linePrefix, Math.max(24, width - gutter - 4 - p.length))) : '';
    out.push(`  ${st.dim(String(c.line + i).padStart(gutter) + ' │')} ${head}${st.green(p)}`);
  });
  if (blank) out.push(`  ${st.dim(' '.repeat(gutter) + ` │ (then ${blank} line break${blank > 1 ? 's' : ''})`)}`);
  if (!c.text) out.push(`  ${st.dim(' '.repeat(gutter) + ' │ (nothing)')}`);

  out.push('');
  out.push(st.bold(`summary: ${r.summary.length} key lines by ${r.model.importanceKind === 'write_strength' ? 'write strength' : 'importance'}, in file order`));
  const where = (l: MainReport['summary'][number]) => (l.column === undefined ? String(l.line) : `${l.line}:${l.column}`);
  const g = Math.max(1, ...r.summary.map((l) => where(l).length));
  for (const l of r.summary) out.push(`  ${where(l).padStart(g)}  ${cut(l.text.trim(), width)}`);

  const h = r.heatmap;
  const what = h.mode === 'surprise' ? 'surprise (bits per token)' : r.model.importanceKind === 'write_strength' ? 'importance (write strength)' : 'importance (source competition)';
  out.push('');
  out.push(st.bold(`heat map of ${what}, lines ${h.from}-${h.to}`));
  out.push(renderLegend(h.mode, h.thresholds, color, h.mode === 'surprise' ? ' bits' : ''));
  out.push(...renderHeatLines(h.lines, h.mode, color, width));
  return out.join('\n');
}

function cut(s: string, width: number): string {
  return s.length > width ? s.slice(0, width - 1) + '…' : s;
}

function cutLeft(s: string, width: number): string {
  return s.length > width ? '…' + s.slice(s.length - width + 1) : s;
}

export function renderScore(r: ScoreReport, asked: string): string {
  const out = [modelLine(r, asked), ''];
  out.push(`${'bits/byte'.padStart(9)} ${'tokens'.padStart(9)} ${'bytes'.padStart(10)} ${'tokens/s'.padStart(9)}  file`);
  for (const f of r.files) {
    out.push(`${f.bitsPerByte.toFixed(4).padStart(9)} ${n0(f.tokens).padStart(9)} ${n0(f.bytes).padStart(10)} ${n0(f.tokens / (f.ms / 1000)).padStart(9)}  ${rel(f.file)}`);
  }
  if (r.files.length > 1) out.push(`${r.total.bitsPerByte.toFixed(4).padStart(9)} ${n0(r.total.tokens).padStart(9)} ${n0(r.total.bytes).padStart(10)} ${''.padStart(9)}  (all files)`);
  return out.join('\n');
}
