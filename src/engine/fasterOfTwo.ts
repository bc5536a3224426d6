// Picks the faster of two ways to do the same work from how fast they have been lately: mostly
// the faster one, now and then the other, so a change in the machine's load is noticed. Used for
// every run with two possible sessions (modelRunner.ts): bulk CPU runs on all threads or one (all
// win on a quiet machine, one when another process holds a core: bench/threads.js), and beside a
// GPU the GPU or the CPU (reading: the GPU; decoding steps: the CPU's int8 step graph).

/** Measurements of a choice before its cost (their median) is trusted. */
const UNSETTLED = 3;

interface Sample { cost: number; pick: number }

export class FasterOfTwo {
  /** Recent cost per unit of work of each choice: the median of its last measurements (NaN: not tried yet). */
  readonly cost: [number, number] = [NaN, NaN];
  private readonly recent: [Sample[], Sample[]] = [[], []];
  private readonly measured: [number, number] = [0, 0];
  private picks = 0;

  /**
   * @param exploreEvery every this many picks, the choice that is not the best is tried
   * @param window how many recent measurements of a choice its cost is the median of: one slow
   *   run (a GC pause, another process taking the core) does not flip the choice. With an
   *   average instead, one such run beside the H200 sent ~100 of 450 decoding steps to the
   *   GPU's 6 ms runs, since the other choice is measured again only now and then.
   */
  constructor(private readonly exploreEvery = 16, private readonly window = 5) {}

  /**
   * Measurements older than this many picks no longer count while a newer one exists: the choice
   * not believed faster is measured only on its trials, so its window would otherwise hold the
   * runs that made it lose, long after that load has gone. On this 2-core machine a burst of
   * three slow multi-threaded reading runs sent the engine to one thread, and trials of the
   * threads then, each as fast as before the burst, needed four trials (~80 runs, most of a 1 MB
   * file's read, 0.7x the speed) to outvote the burst in the median.
   */
  private get staleAfter(): number {
    return 2 * this.exploreEvery;
  }

  /** The choice believed faster (0 until both have been measured and 1 was faster). */
  get best(): 0 | 1 {
    return this.cost[1] < this.cost[0] ? 1 : 0;
  }

  /**
   * The choice for `units` of work. A trial of the other choice is skipped when it would take
   * longer than `trialLimitMs` and 4x the best's time (by its measured cost, or for a choice
   * never measured, when units > trialLimitUnits): on a GPU machine one 65,536-token CPU trial
   * took seconds, as long as reading a whole 1 MB file on the GPU. It is also skipped when it
   * would take more than `budgetMs` (the caller's share of time left for trials: RunRouter).
   */
  pick(units = 1, trialLimitMs = Infinity, trialLimitUnits = Infinity, budgetMs = Infinity): 0 | 1 {
    this.picks++;
    this.updateCost(0);
    this.updateCost(1);
    if (Number.isNaN(this.cost[0])) return 0;
    const worthTrying = (c: 0 | 1): boolean => {
      if (Number.isNaN(this.cost[c])) return units <= trialLimitUnits && budgetMs > 0;
      const ms = this.cost[c] * units;
      return ms <= budgetMs && (ms <= trialLimitMs || ms <= 4 * this.cost[1 - c] * units);
    };
    if (Number.isNaN(this.cost[1])) return worthTrying(1) ? 1 : 0;
    const other = (1 - this.best) as 0 | 1;
    // a choice measured fewer than UNSETTLED times may owe its cost to one slow run (a GC pause
    // after a long read), which the median cannot outvote yet: it is tried every other pick until
    // it has that many measurements (beside the H200, one slow first CPU step otherwise sent the
    // next 561 of 563 steps to the GPU: BENCHMARKS.md, session 18)
    // (a cost taken from another run length, never measured here, is that length's median: it is
    // tried at the usual rate, not every other pick; beside the H200 that rule tried the CPU on
    // the last, shorter run of every 1 MB read, a run length new to it: 139 of 449 ms)
    if (this.measured[other] > 0 && this.measured[other] < Math.min(UNSETTLED, this.window)) {
      return this.picks % 2 === 0 && worthTrying(other) ? other : this.best;
    }
    // a choice k times slower is tried k times less often, so trying it costs about the same
    // share of the time however slow it is (a GPU's single-token run can be 8x a CPU's)
    const ratio = Math.max(this.cost[0], this.cost[1]) / Math.min(this.cost[0], this.cost[1]);
    const every = Math.min(this.exploreEvery * 16, Math.max(this.exploreEvery, Math.round(this.exploreEvery * ratio)));
    return this.picks % every === 0 && worthTrying(other) ? other : this.best;
  }

  /** Takes the costs this chooser has not measured from another one (e.g. a neighbouring run length's). */
  seedFrom(other: FasterOfTwo): void {
    for (const c of [0, 1] as const) {
      if (Number.isNaN(this.cost[c]) && !Number.isNaN(other.cost[c])) {
        this.cost[c] = other.cost[c];
        this.recent[c] = [{ cost: other.cost[c], pick: this.picks }];
      }
    }
  }

  /** Records that `choice` took `ms` for `units` of work. */
  record(choice: 0 | 1, ms: number, units: number): void {
    if (!(units > 0) || !(ms >= 0)) return;
    const r = this.recent[choice];
    r.push({ cost: ms / units, pick: this.picks });
    if (r.length > this.window) r.shift();
    this.measured[choice]++;
    this.updateCost(choice);
  }

  /** The median of the choice's recent measurements that are not stale (the latest always counts). */
  private updateCost(choice: 0 | 1): void {
    const r = this.recent[choice];
    if (!r.length) return;
    const fresh = r.filter((x, i) => i === r.length - 1 || x.pick >= this.picks - this.staleAfter).map((x) => x.cost);
    const sorted = fresh.sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    this.cost[choice] = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
}
