// A deterministic stand-in for the engine (EngineApi), for developing and testing the
// extension's glue without a model: FLOWSTATE_ENGINE_MODULE=out/test/vscode/mock/mockEngine.js.
// Tokens are words/punctuation; importance is a hash of the token; surprisal grows with the
// token's rarity; completions continue the most recent earlier occurrence of the text
// before the cursor. Not a model: the real suites run the real engine.
import type {
  CompletionRequest, CompletionResult, EngineApi, EngineEvent, EngineInfo, EngineOptions, EngineStats, FileSummary,
  ReadProgress, TextEdit, TokenScores, TopPredictions,
} from '../../../src/engine/api';

interface Doc { text: string; version: number }

const TOKEN = /\s*(?:[A-Za-z_$][A-Za-z0-9_$]*|\d+|[^\sA-Za-z0-9_$])|\s+/g;

function tokenize(text: string, start: number, end: number) {
  const starts: number[] = [], ends: number[] = [];
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TOKEN.exec(text))) {
    const s = m.index, e = s + m[0].length;
    if (e <= start) continue;
    if (s >= end) break;
    starts.push(s); ends.push(e);
  }
  return { starts, ends };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return (h >>> 0) / 4294967296;
}

export function createEngine(opts: EngineOptions, onEvent: (e: EngineEvent) => void): Promise<EngineApi> {
  const docs = new Map<string, Doc>();
  const cancelled = new Set<string>();
  const scoreTok = (text: string, s: number, e: number) => {
    const t = text.slice(s, e).trim();
    const imp = 0.2 + 4.8 * hash(t) ** 2;
    const sur = s === 0 ? 0 : 1 + 14 * hash('s' + t);
    return { imp, sur };
  };
  const progress = (uri: string): ReadProgress => {
    const d = docs.get(uri)!;
    const n = Math.round(d.text.length / 3.5);
    return { uri, version: d.version, readOffset: d.text.length, length: d.text.length, tokensRead: n, tokensTotal: n };
  };
  const api: EngineApi = {
    async info(): Promise<EngineInfo> {
      return { modelName: 'mock', architecture: 'mock', parameters: 0, stateBytes: 0, provider: 'cpu',
        providerNote: opts.provider === 'cuda' ? 'mock engine: no CUDA' : undefined, importanceKind: 'source_competition' };
    },
    async openDocument(uri, version, text) {
      docs.set(uri, { text, version });
      onEvent({ kind: 'progress', progress: progress(uri) });
    },
    async applyEdits(uri, version, edits: TextEdit[]) {
      const d = docs.get(uri);
      if (!d) throw new Error('unknown document');
      for (const e of edits) d.text = d.text.slice(0, e.rangeOffset) + e.text + d.text.slice(e.rangeOffset + e.rangeLength);
      d.version = version;
    },
    async closeDocument(uri) { docs.delete(uri); },
    async setPriority() { /* nothing */ },
    async read(uri) { return progress(uri); },
    async complete(req: CompletionRequest, cancelId?: string): Promise<CompletionResult> {
      const t0 = Date.now();
      const d = docs.get(req.uri);
      if (!d) throw new Error('unknown document');
      await new Promise((r) => setTimeout(r, 5));
      if (cancelId && cancelled.delete(cancelId)) return { text: '', tokens: 0, msToState: 0, msToFirstToken: 0, msTotal: Date.now() - t0, stoppedBy: 'cancelled' };
      const a = req.assume;
      const before = a ? d.text.slice(0, req.offset - a.replaces) + a.text : d.text.slice(0, req.offset);
      let text = '';
      for (const k of [12, 8, 5, 3]) {
        if (before.length < k) continue;
        const key = before.slice(-k);
        const at = before.lastIndexOf(key, before.length - k - 1);
        if (at >= 0) { text = d.text.slice(at + k, at + k + 200); break; }
      }
      if (!text) text = ' // flowstate';
      if (req.mode === 'line') text = text.split('\n')[0];
      else text = text.split('\n').slice(0, 3).join('\n');
      return { text, tokens: Math.ceil(text.length / 4), msToState: 1, msToFirstToken: 2, msTotal: Date.now() - t0, stoppedBy: 'max_tokens' };
    },
    async scores(uri, startOffset, endOffset): Promise<TokenScores> {
      const d = docs.get(uri);
      if (!d) throw new Error('unknown document');
      const { starts, ends } = tokenize(d.text, startOffset, endOffset);
      const importance: number[] = [], surprisal: number[] = [];
      for (let i = 0; i < starts.length; i++) { const s = scoreTok(d.text, starts[i], ends[i]); importance.push(s.imp); surprisal.push(s.sur); }
      return { starts, ends, importance, surprisal };
    },
    async predictionsAt(uri, offset, topK): Promise<TopPredictions> {
      const d = docs.get(uri)!;
      const { starts, ends } = tokenize(d.text, offset, offset + 1);
      const s = starts[0] ?? offset, e = ends[0] ?? offset;
      const sc = scoreTok(d.text, s, e);
      return { offset: s, tokenText: d.text.slice(s, e), importance: sc.imp, surprisal: sc.sur,
        importancePercentile: 100 * Math.sqrt((sc.imp - 0.2) / 4.8), surprisalPercentile: 100 * (sc.sur - 1) / 14,
        top: Array.from({ length: topK }, (_, i) => ({ text: ['foo', ' bar', '(', ';', ' baz'][i % 5], probability: 0.4 / (i + 1) })) };
    },
    async summarize(uri, maxLines): Promise<FileSummary> {
      const d = docs.get(uri)!;
      const lines = d.text.split('\n');
      const scored = lines.map((t, i) => ({ line: i, text: t, score: t.trim() ? hash(t) * 3 : 0 }));
      const top = [...scored].sort((a, b) => b.score - a.score).slice(0, maxLines).sort((a, b) => a.line - b.line);
      const buckets = 100, per = Math.max(1, Math.ceil(lines.length / buckets));
      const profile = [];
      for (let s = 0; s < lines.length; s += per) {
        const e = Math.min(lines.length - 1, s + per - 1);
        profile.push({ startLine: s, endLine: e, importance: 1 + hash('i' + s), surprisal: 3 + 4 * hash('s' + s) });
      }
      return { uri, version: d.version, lines: top, profile, bitsPerByte: 1.234, tokens: Math.round(d.text.length / 3.5), msReading: 1 };
    },
    async stats(): Promise<EngineStats> { return { documents: docs.size, checkpointBytes: 0, memoryBudgetBytes: opts.memoryBudgetBytes ?? 0, evictions: 0, bulkRuns: [0, 0], bulkMs: [0, 0] }; },
    async cancel(id) { cancelled.add(id); },
    async hurry() { /* answers at once anyway */ },
    async prepare() { return false; },
    async dispose() { docs.clear(); },
  };
  return Promise.resolve(api);
}
