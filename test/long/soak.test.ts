import { after, describe, it } from 'node:test';
import { Drills, script } from '../support/drill';

/**
 * `npm run test:long`: six minutes of steady load with a fault every 30 s, in turn a SIGKILL of
 * dockward, a 20 s Elasticsearch outage and a dockerd restart, then the exact comparison.
 */
describe('soak: 6 minutes, a fault every 30 s', () => {
  const drills = new Drills();
  after(() => drills.close());

  it('0 lost, 0 duplicated after kills, outages and engine restarts', async () => {
    const faults = ['kill', 'es', 'dockerd'];
    await drills.run('soak', 360, ['output.backoff_max=5s'], async (d) => {
      const until = Date.now() + 330_000;
      for (let i = 0; Date.now() < until; i++) {
        await new Promise((r) => setTimeout(r, 30_000));
        const fault = faults[i % faults.length];
        console.log(`# soak: fault ${i + 1}: ${fault}`);
        if (fault === 'kill') {
          await d.dockward().kill('SIGKILL');
          d.restart();
        } else if (fault === 'es') {
          script('elasticsearch.sh', 'stop', 'plain');
          await new Promise((r) => setTimeout(r, 20_000));
          script('elasticsearch.sh', 'start', 'plain');
        } else {
          script('dockerd.sh', 'restart');
        }
      }
    });
  });
});
