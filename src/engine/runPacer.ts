// Keeps each model run short in wall time, so that a cancel, an edit or a keystroke's request
// waits little for the run under way: ONNX Runtime runs synchronously on the engine's event
// loop, and on a loaded machine a run is many times slower than on a quiet one (in the VS Code
// test, right after a 1,500-line paste on 2 cores, a 1,024-token run of the tiny model took
// 1.6 s instead of 30 ms: the editor held the cores). After each run of many tokens, the next
// one's length is scaled so that it should take about targetMs. (A request someone waits for
// also starts with a short run: Replayer.advance.)

/** Runs shorter than this say little about the cost per token (decoding: one token). */
const MEASURED_FROM_TOKENS = 32;

export class RunPacer {
  private limit: number;

  constructor(readonly targetMs: number, private readonly maxTokens: number, private readonly minTokens = 64) {
    this.limit = maxTokens;
  }

  /** Most tokens for the next run. */
  get maxRun(): number {
    return this.limit;
  }

  /** A run of `tokens` took `ms` of wall time. */
  record(tokens: number, ms: number): void {
    if (tokens < MEASURED_FROM_TOKENS || !(ms > 0)) return;
    const fits = Math.floor((tokens * this.targetMs) / ms);
    // grows at most 2x per run: one quick run after a slow stretch is no proof the load is gone
    const grown = Math.min(fits, 2 * Math.max(this.limit, tokens));
    this.limit = Math.max(this.minTokens, Math.min(this.maxTokens, grown));
  }
}
