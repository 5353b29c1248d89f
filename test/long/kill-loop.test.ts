import { after, describe, it } from 'node:test';
import { Drills, killTenTimes } from '../support/drill';
import { BusyCores } from '../support/load';

/**
 * `npm run test:long`: the 10×SIGKILL drill of test/ship/faults.test.ts twenty times in a row with
 * both cores busy beside it. It once lost the tail of every container's log (the follow stream
 * ended at container exit before the engine sent it) in about one run in nine under load; twenty
 * green runs in a row make a repeat of that unlikely to hide.
 */
describe('kill loop: the 10×SIGKILL drill 20 times with two busy cores (0 missing, 0 duplicated each)', () => {
  const drills = new Drills();
  const busy = new BusyCores(2, 3_600_000);
  after(async () => {
    busy.stop();
    await drills.close();
  });

  for (let round = 1; round <= 20; round++) {
    it(`round ${round} of 20`, async () => {
      await drills.run(`loop${round}r`, 40, [], killTenTimes);
    });
  }
});
