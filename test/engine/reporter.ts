// Mocha's spec reporter plus the final "N passed, N failed" line the CI scripts look for.
import Mocha = require('mocha');

class SpecWithTotals extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats;
      console.log(`${s?.passes ?? 0} passed, ${s?.failures ?? 0} failed`);
    });
  }
}

export = SpecWithTotals;
