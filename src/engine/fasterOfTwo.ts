// Picks the faster of two ways to do the same work from how fast they have been lately: mostly
// the faster one, now and then the other, so a change in the machine's load is noticed. Used for
// bulk CPU runs: all threads win on a quiet machine, one thread when another process holds a
// core (bench/threads.js), and which case holds changes while the editor runs.

export class FasterOfTwo {
  /** Recent cost per unit of work of each choice (NaN: not tried yet). */
  readonly cost: [number, number] = [NaN, NaN];
  private picks = 0;

  /**
   * @param exploreEvery every this many picks, the choice that is not the best is tried
   * @param keep weight of the old cost when a new measurement comes (exponential average)
   */
  constructor(private readonly exploreEvery = 16, private readonly keep = 0.7) {}

  /** The choice believed faster (0 until both have been measured and 1 was faster). */
  get best(): 0 | 1 {
    return this.cost[1] < this.cost[0] ? 1 : 0;
  }

  pick(): 0 | 1 {
    this.picks++;
    if (Number.isNaN(this.cost[0])) return 0;
    if (Number.isNaN(this.cost[1])) return 1;
    // a choice k times slower is tried k times less often, so trying it costs about the same
    // share of the time however slow it is (a GPU's single-token run can be 8x a CPU's)
    const ratio = Math.max(this.cost[0], this.cost[1]) / Math.min(this.cost[0], this.cost[1]);
    const every = Math.min(this.exploreEvery * 16, Math.max(this.exploreEvery, Math.round(this.exploreEvery * ratio)));
    return this.picks % every === 0 ? (1 - this.best) as 0 | 1 : this.best;
  }

  /** Records that `choice` took `ms` for `units` of work. */
  record(choice: 0 | 1, ms: number, units: number): void {
    if (!(units > 0) || !(ms >= 0)) return;
    const c = ms / units;
    const old = this.cost[choice];
    this.cost[choice] = Number.isNaN(old) ? c : this.keep * old + (1 - this.keep) * c;
  }
}
