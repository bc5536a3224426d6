// Computing the recurrent state at a token position: start from the latest usable checkpoint
// and run the tokens after it, in runs that end on line starts where possible, storing the
// scores (when they extend the read prefix) and new checkpoints on the way.
import type { CancelToken } from './cancellation';
import { NEVER_CANCELLED } from './cancellation';
import { Checkpoint, tick } from './checkpoints';
import type { Document } from './document';
import type { ModelRunner, RunOutput } from './modelRunner';
import { Priority, PriorityGate, yieldToEventLoop } from './priorityGate';
import { RunPacer } from './runPacer';
import type { RunPurpose } from './sessionChoice';

export class StaleError extends Error {
  constructor() {
    super('the document changed while the request was running');
    this.name = 'StaleError';
  }
}

export interface ReplayConfig {
  /** Tokens between regular checkpoints (at line starts). */
  checkpointEvery: number;
  /** Most tokens per graph run in background reading (a keystroke waits for at most one). */
  runTokens: number;
  /**
   * Most tokens per run when someone waits (a completion after a jump, a summary): longer runs
   * read faster (bench/threads.js: 256-token runs 1.3x the tokens/s of 64-token ones).
   */
  urgentRunTokens: number;
  /** Wall time a run should take at most (default 150 ms): runs get shorter on a loaded machine (RunPacer). */
  runTargetMs?: number;
}

export interface ReplayOptions {
  priority: Priority;
  cancel?: CancelToken;
  /** Token positions where a (hot) checkpoint must be stored. */
  hot?: number[];
  /** Most tokens per run (default: by priority, maxRun). */
  maxRun?: number;
  /** Where to start; default: the latest checkpoint at or before the target. */
  from?: Checkpoint;
}

export interface StateAt {
  g: number;
  state: Float32Array;
  /** Logits after token g - 1 (only when at least one token was run). */
  logits?: Float32Array;
}

/** Tokens in an interactive request's first run (then twice as many each run, up to the limits). */
const FIRST_INTERACTIVE_RUN = 256;

export class Replayer {
  readonly pacer: RunPacer;

  constructor(
    readonly runner: ModelRunner,
    readonly gate: PriorityGate,
    readonly cfg: ReplayConfig,
  ) {
    this.pacer = new RunPacer(cfg.runTargetMs ?? 150, Math.max(cfg.runTokens, cfg.urgentRunTokens));
  }

  /**
   * One model run at `priority`, unless the request was cancelled or the document changed
   * (`epoch`) while it waited: checked after the event loop has taken the messages waiting,
   * because a run, once started, holds the loop until it ends.
   */
  async run(priority: Priority, tokens: Int32Array, state: Float32Array, cancel: CancelToken = NEVER_CANCELLED, doc?: Document, epoch?: number): Promise<RunOutput> {
    const check = () => {
      cancel.throwIfCancelled();
      if (doc && doc.epoch !== epoch) throw new StaleError();
    };
    return this.gated(priority, tokens, state, 'read', check);
  }

  /** A completion's next token (interactive): its state is never checkpointed (RunPurpose 'decode'). */
  decode(token: number, state: Float32Array): Promise<RunOutput> {
    return this.gated(Priority.Interactive, Int32Array.of(token), state, 'decode', () => undefined);
  }

  private gated(priority: Priority, tokens: Int32Array, state: Float32Array, purpose: RunPurpose, check: () => void): Promise<RunOutput> {
    check();
    // the yield happens holding the gate: a waiting background chunk must not slip in between
    // an interactive caller's runs
    return this.gate.run(priority, async () => {
      await yieldToEventLoop();
      check();
      const t0 = performance.now();
      const out = await this.runner.run(tokens, state, purpose);
      // a trial of the other session (RunRouter) is no measure of the runs that follow it
      if (!out.trial) this.pacer.record(tokens.length, performance.now() - t0);
      return out;
    });
  }

  zeroState(): Float32Array {
    return new Float32Array(this.runner.manifest.stateSize);
  }

  /** The start point for the state after [0, g): a checkpoint, or the zero state at 0. */
  startFor(doc: Document, g: number, usable?: (c: Checkpoint) => boolean): StateAt {
    const c = doc.bestCheckpoint(g, usable);
    if (!c) return { g: 0, state: this.zeroState() };
    c.lastUse = tick();
    return { g: c.g, state: c.state, logits: c.logits };
  }

  /** The state after the document's tokens [0, g). With needLogits, runs at least the last token. */
  async stateAt(doc: Document, g: number, needLogits: boolean, o: ReplayOptions): Promise<StateAt> {
    let start: StateAt = o.from ? { g: o.from.g, state: o.from.state } : this.startFor(doc, g);
    if (needLogits && start.g >= g && !(start.g === g && start.logits)) start = g > 0 ? this.startFor(doc, g - 1) : start;
    return this.advance(doc, start, g, o);
  }

  /** Runs the document's tokens from `start` to token g. */
  async advance(doc: Document, start: StateAt, g: number, o: ReplayOptions): Promise<StateAt> {
    const cancel = o.cancel ?? NEVER_CANCELLED;
    const epoch = doc.epoch;
    const hot = (o.hot ?? []).filter((h) => h > start.g && h <= g).sort((a, b) => a - b);
    let cur = start.g;
    let state = start.state;
    let logits: Float32Array | undefined = start.logits;
    // Someone waits, often right after a big edit that keeps the editor busy: how slow runs are
    // now is unknown, so a request's runs start short and at most double (RunPacer shortens them)
    let ramp = o.priority === Priority.Interactive ? FIRST_INTERACTIVE_RUN : Infinity;
    while (cur < g) {
      cancel.throwIfCancelled();
      const maxRun = Math.min(o.maxRun ?? Infinity, this.maxRun(o.priority), ramp);
      ramp *= 2;
      const end = this.runEnd(doc, cur, g, hot, maxRun);
      const tokens = doc.tokenRange(cur, end);
      const out = await this.run(o.priority, tokens, state, cancel, doc, epoch);
      if (doc.epoch !== epoch) throw new StaleError();
      doc.recordScores(cur, out.importance, out.surprisal);
      state = out.state;
      logits = out.logits;
      cur = end;
      this.maybeCheckpoint(doc, cur, state, hot.includes(cur), logits);
      if (cur === doc.readTokens && (!doc.frontier || doc.frontier.g < cur)) doc.setFrontier(cur, state, logits);
    }
    return { g: cur, state, logits };
  }

  /** Most tokens per run at `priority`: as configured, and shorter while runs are slow (pacer). */
  maxRun(priority: Priority): number {
    return Math.min(this.pacer.maxRun, priority === Priority.Background ? this.cfg.runTokens : this.cfg.urgentRunTokens);
  }

  /** Where the run starting at `cur` ends: a hot position, else a line start if one is near the limit. */
  runEnd(doc: Document, cur: number, target: number, hot: number[], maxRun = this.cfg.runTokens): number {
    let limit = Math.min(target, cur + maxRun);
    for (const h of hot) if (h > cur && h < limit) { limit = h; break; }
    if (limit === target || hot.includes(limit)) return limit;
    doc.ensureTokenFor(limit);
    const { line } = doc.tokenPosition(limit);
    const s = doc.lineStartToken(line);
    return s > cur + maxRun / 4 ? s : limit;
  }

  private maybeCheckpoint(doc: Document, g: number, state: Float32Array, hot: boolean, logits: Float32Array): void {
    if (hot) { doc.addCheckpoint(g, state, true, logits); return; }
    const since = g - this.prevRegular(doc, g);
    const { k } = doc.tokenPosition(g);
    const every = this.cfg.checkpointEvery;
    // regular checkpoints at line starts; inside very long lines too, sparser
    if ((k === 0 && since >= every) || since >= 2 * every) doc.addCheckpoint(g, state);
  }

  private prevRegular(doc: Document, g: number): number {
    for (let i = doc.checkpoints.length - 1; i >= 0; i--) if (doc.checkpoints[i].g <= g) return doc.checkpoints[i].g;
    return 0;
  }
}
