/**
 * Detection on our own evaluation suites (test/evaluation/attacks.yml, benign.yml): one dockward
 * with its default configuration against the real engine and Elasticsearch, every attack scenario
 * in its own container, every benign container watched for its first N minutes. Prints recall per
 * ATT&CK tactic (any alert / an alert with the scenario's technique or its parent/sub-technique),
 * alerts per benign container, the rules that fired on benign containers, and the misses.
 *   node dist/bench/detection-suites.js [minutes=10] [batch=8] [only=attacks|benign] [ids=a,b] [json=FILE]
 *   npm run bench -- detection-suites [minutes=3]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { ROOT } from '../test/support/engines';
import { formatReport } from '../test/support/suites/report';
import { SuiteRunner } from '../test/support/suites/runner';
import { loadAttacks, loadBenign } from '../test/support/suites/scenarios';
import { scoreAttacks, scoreBenign, type AttackReport, type BenignReport } from '../test/support/suites/score';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
const minutes = Number(arg('minutes') ?? 10);
const batch = Number(arg('batch') ?? 8);
const only = arg('only');
const ids = arg('ids')?.split(',');
const pick = <T extends { id: string }>(xs: T[]) => (ids ? xs.filter((x) => ids.includes(x.id)) : xs);

async function main(): Promise<void> {
  const attacks = only === 'benign' ? [] : pick(loadAttacks());
  const benign = only === 'attacks' ? [] : pick(loadBenign());
  const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const t0 = Date.now();
  const runner = new SuiteRunner({ batch, benignMinutes: minutes, log: (l) => console.error(`# ${l}`) });
  let a: AttackReport | undefined;
  let b: BenignReport | undefined;
  try {
    await runner.start(benign);
    const ao = await runner.runAttacks(attacks);
    const bo = await runner.runBenign(benign);
    await runner.collect(ao);
    await runner.collect(bo, minutes);
    if (attacks.length) a = scoreAttacks(attacks, ao);
    if (benign.length) b = scoreBenign(bo, minutes);
  } finally {
    await runner.close();
  }
  console.log(`detection-suites at ${commit} (namespace ${runner.ns}, ${Math.round((Date.now() - t0) / 1000)} s, batches of ${batch})`);
  console.log(formatReport(a, b));
  const json = arg('json');
  if (json) writeFileSync(json, `${JSON.stringify({ commit, attacks: a, benign: b }, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
