// Reads open documents in the background, one chunk per step: documents someone waits for
// first, then the visible ones in priority order, then the rest, most recently used first.
// A document being edited waits for a pause in typing. Every step yields to the event loop,
// so requests and cancellations get in between chunks.
import { CancelledError, CancelToken } from './cancellation';
import type { Document } from './document';
import { Priority } from './priorityGate';
import { Replayer, StaleError } from './replay';

/** Tokenising a reading step may do before it yields (a long line goes in slices: document.ts). */
const TOKENIZE_STEP_MS = 10;

interface Waiter {
  doc: Document;
  g: number;
  resolve: () => void;
  reject: (e: Error) => void;
  unsubscribe: () => void;
}

export interface ReaderOptions {
  background: boolean;
  /** Milliseconds without edits before a document is read again. */
  editDebounceMs: number;
  /**
   * The same when what is left to read has stale scores (read before the edit): re-reading it
   * only refreshes them, so it waits for a pause in typing instead of taking the CPU from it.
   */
  refreshDebounceMs: number;
  /** Most tokens per reading run (background or waited for) while the user is active (default: no limit beyond the replayer's). */
  activeRunTokens?: number;
  /** How long after an edit or a request the user counts as active. */
  activeMs: number;
}

export class BackgroundReader {
  priority: string[] = [];
  private waiters: Waiter[] = [];
  private wakeUp: (() => void) | undefined;
  private disposed = false;
  private loopDone: Promise<void> | undefined;
  private activeUntil = 0;

  constructor(
    private readonly documents: () => Iterable<Document>,
    private readonly replayer: Replayer,
    private readonly opts: ReaderOptions,
    private readonly onStep: (doc: Document, done: boolean) => void,
    private readonly onError: (doc: Document, e: Error) => void,
  ) {}

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** An edit or a request: background runs stay short for a while (activeRunTokens). */
  noteActivity(): void {
    this.activeUntil = Date.now() + this.opts.activeMs;
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  static isRead(doc: Document): boolean {
    return doc.fullyTokenized && doc.readTokens >= doc.totalTokens;
  }

  /** Resolves once the document's tokens [0, g) are read. */
  waitFor(doc: Document, g: number, cancel: CancelToken): Promise<void> {
    if (doc.readTokens >= g || BackgroundReader.isRead(doc)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w: Waiter = { doc, g, resolve, reject, unsubscribe: () => undefined };
      w.unsubscribe = cancel.onCancel(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new CancelledError('read'));
      });
      this.waiters.push(w);
      this.wake();
    });
  }

  /** Fails the waiters of a closed document. */
  forget(doc: Document): void {
    for (const w of this.waiters.filter((x) => x.doc === doc)) { w.unsubscribe(); w.reject(new Error(`document closed: ${doc.uri}`)); }
    this.waiters = this.waiters.filter((x) => x.doc !== doc);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const w of this.waiters) { w.unsubscribe(); w.reject(new Error('engine disposed')); }
    this.waiters = [];
    this.wake();
    await this.loopDone;
  }

  private next(): { doc?: Document; waitMs?: number } {
    const now = Date.now();
    let waitMs: number | undefined;
    const ready = (d: Document, urgent: boolean) => {
      if (BackgroundReader.isRead(d)) return false;
      const quiet = now - d.lastEditMs;
      const needed = d.hasStaleScores ? this.opts.refreshDebounceMs : this.opts.editDebounceMs;
      if (!urgent && quiet < needed) {
        waitMs = Math.min(waitMs ?? Infinity, needed - quiet);
        return false;
      }
      return true;
    };
    for (const w of this.waiters) if (ready(w.doc, true)) return { doc: w.doc };
    if (!this.opts.background) return { waitMs };
    const docs = [...this.documents()];
    for (const uri of this.priority) {
      const d = docs.find((x) => x.uri === uri);
      if (d && ready(d, false)) return { doc: d };
    }
    docs.sort((a, b) => b.lastUse - a.lastUse);
    for (const d of docs) if (ready(d, false)) return { doc: d };
    return { waitMs };
  }

  private async loop(): Promise<void> {
    while (!this.disposed) {
      const { doc, waitMs } = this.next();
      if (!doc) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          if (waitMs !== undefined) setTimeout(() => this.wake(), Math.max(1, waitMs));
        });
        continue;
      }
      try {
        await this.step(doc);
      } catch (e) {
        if (!(e instanceof StaleError)) {
          this.onError(doc, e as Error);
          for (const w of this.waiters.filter((x) => x.doc === doc)) { w.unsubscribe(); w.reject(e as Error); }
          this.waiters = this.waiters.filter((x) => x.doc !== doc);
          doc.lastEditMs = Date.now() + 5000; // do not spin on a failing document
        }
      }
      const done = BackgroundReader.isRead(doc);
      this.onStep(doc, done);
      for (const w of this.waiters.filter((x) => x.doc === doc && (done || x.doc.readTokens >= x.g))) {
        w.unsubscribe();
        w.resolve();
      }
      this.waiters = this.waiters.filter((x) => !(x.doc === doc && (done || x.doc.readTokens >= x.g)));
      await new Promise((r) => setImmediate(r));
    }
  }

  private async step(doc: Document): Promise<void> {
    const urgent = this.waiters.some((w) => w.doc === doc);
    const o = { priority: urgent ? Priority.Read : Priority.Background };
    let start = this.replayer.startFor(doc, doc.readTokens);
    // after an edit the nearest checkpoint may lie before the read prefix: catch up first
    if (start.g < doc.readTokens) start = await this.replayer.advance(doc, start, doc.readTokens, o);
    let maxRun = this.replayer.maxRun(o.priority);
    // while the user types, every reading run stays short, also a read someone waits for (a
    // summary panel refreshing after an edit): a keystroke waits for at most one such run
    if (this.opts.activeRunTokens && Date.now() < this.activeUntil) maxRun = Math.min(maxRun, this.opts.activeRunTokens);
    // a long line (a minified file's) is tokenised in slices, between which requests are answered
    if (!doc.tokenizeTokenWithin(start.g + maxRun, TOKENIZE_STEP_MS)) return;
    doc.ensureTokenFor(start.g + maxRun);
    const docEnd = doc.fullyTokenized ? doc.totalTokens : doc.lineStartToken(doc.tokenizedLines);
    if (start.g >= docEnd) return;
    const end = this.replayer.runEnd(doc, start.g, docEnd, [], maxRun);
    await this.replayer.advance(doc, start, end, o);
  }
}
