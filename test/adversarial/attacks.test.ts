import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BUILTIN_RULES, loadRules } from '../../src/detect/rules';
import { runAttack } from '../support/adversary';
import { fetchAll, waitForCount } from '../support/elasticsearch';

/**
 * A container attacks dockward itself, one attack per test (`../shared/reviews/security.md`
 * H1, H2, M2, M6, M7, M8, L4), each beside a canary: dockward must stay responsive, bounded and
 * complete, and say what was tried (a T1562 tamper alert). Real dockerd, real Elasticsearch.
 */
describe('adversarial: a container cannot blind, freeze or crash dockward', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'dockward-adv-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  // The engine itself reads the image's /etc/passwd to start a container or an exec (a FIFO image
  // hangs dockerd for good), so the container plants it after it started, and does no exec after.
  const execLoop = ['sh', '-c', 'while :; do /bin/true; /bin/sleep 0.2; done'];
  const planted = (plant: string) => ['sh', '-c', `rm /etc/passwd && ${plant} && exec sh -c 'while :; do /bin/true; /bin/sleep 0.2; done'`];
  const is = (pid: number, check: (s: Stats) => boolean) => {
    try {
      return check(lstatSync(`/proc/${pid}/root/etc/passwd`));
    } catch {
      return false;
    }
  };

  it('H1: /etc/passwd is a FIFO (the kernel collector reads it for the first exec)', async () => {
    await runAttack({ name: 'fifo-passwd', attack: { cmd: planted('mkfifo /etc/passwd') }, armedBeforeDockward: (pid) => is(pid, (s) => s.isFIFO()), tamper: 'special-file', seconds: 15, rssLimitMb: 400 });
  });

  it('H1: /etc/passwd is a symlink to /dev/zero', async () => {
    await runAttack({ name: 'zero-passwd', attack: { cmd: planted('ln -s /dev/zero /etc/passwd') }, armedBeforeDockward: (pid) => is(pid, (s) => s.isSymbolicLink()), tamper: 'special-file', seconds: 15, rssLimitMb: 400 });
  });

  it('H2: a TTY container writes 64 MiB without a newline', async () => {
    await runAttack({
      name: 'tty-flood',
      attack: { tty: true, cmd: ['sh', '-c', "head -c 67108864 /dev/zero | tr '\\0' A; sleep 600"] },
      tamper: 'log-flood',
      seconds: 20,
      rssLimitMb: 450,
    });
  });

  it('M2: execs whose argument is the rules\' own literals around 17,000 spaces of padding, as fast as the container can', async () => {
    const rules = loadRules([BUILTIN_RULES]).rules.filter((r) => r.enabled && r.kinds.includes('process'));
    const literals = [...new Set(rules.flatMap((r) => (r.prefilter ?? []).flatMap((a) => a.literals)))].join(' ');
    let block = '';
    while (block.length < 8192) block += literals + ' ';
    // Literals make every rule's regexes run over the whole window (the cost); the spaces push the middle out of it (the padding).
    const pad = `${block.slice(0, 8192)}${' '.repeat(17_000)}${block.slice(0, 8192)}`;
    await runAttack({
      name: 'exec-literals',
      attack: { env: [`P=${pad}`], cmd: ['sh', '-c', 'while :; do /bin/true "$P"; done'] },
      tamper: 'exec-flood',
      seconds: 20,
      rssLimitMb: 450,
      after: async ({ ns, attackId, es, dockward }) => {
        const index = `logs-dockward.process-${ns}`;
        const query = { bool: { filter: [{ term: { 'container.id': attackId } }, { exists: { field: 'dockward.process.folded.count' } }] } };
        // The tamper alert comes first; the folded documents follow behind the container's backlog.
        await waitForCount(es, index, 1, 60_000, query, () => dockward.alive());
        const folded = await fetchAll<{ dockward: { process: { folded?: { count: number } } } }>(es, index, query);
        const standFor = folded.reduce((a, d) => a + d.dockward.process.folded!.count, 0);
        const counted = Object.entries(await dockward.metrics()).filter(([k]) => k.startsWith('dockward_kernel_folded_total')).map(([k, v]) => `${k} ${v}`).join(', ');
        assert.ok(folded.length > 0 && standFor > folded.length, `folded documents stand for more starts than they are (${folded.length} documents for ${standFor} starts; dockward counted ${counted || 'nothing folded'})`);
        // The padding is still seen on the documents that were sent: the head and tail matched, reported.
        const padding = { bool: { filter: [{ term: { 'rule.id': 'dockward-tamper-cmdline-padding' } }, { term: { 'container.id': attackId } }] } };
        assert.ok((await es.count({ index: `logs-dockward.alert-${ns}`, query: padding })).count > 0, 'the cmdline-padding alert is raised as well');
      },
    });
  });

  it('M6: 5,000 labels and one of 40 KB: bounded documents, none refused by Elasticsearch', async () => {
    const labels: Record<string, string> = { note: 'x'.repeat(40_000) };
    for (let i = 0; i < 5000; i++) labels[`l${i}`] = 'v';
    await runAttack({
      name: 'label-bomb',
      attack: { labels, cmd: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "bomb $i"; sleep 0.1; done'] },
      tamper: 'label-bomb',
      seconds: 10,
      rssLimitMb: 400,
      after: async ({ ns, attackId, es }) => {
        const docs = await fetchAll<{ container: { labels?: Record<string, string> } }>(es, `logs-dockward.container-${ns}`, { term: { 'container.id': attackId } });
        assert.ok(docs.length >= 50, `the bombed container's lines are stored (${docs.length})`);
        const size = Buffer.byteLength(JSON.stringify(docs[0].container));
        assert.ok(size < 256 * 1024, `its container fields are bounded (${size} bytes)`);
      },
    });
  });

  it('M7: one drift scan finds 100,000 new files', async () => {
    await runAttack({
      name: 'drift-bomb',
      attack: { cmd: ['sh', '-c', 'mkdir /tmp/f && cd /tmp/f && seq 1 100000 | xargs touch; sleep 600'] },
      sets: ['collectors.drift.schedule=*/5 * * * * *', 'collectors.drift.stagger=0s'],
      tamper: 'drift-bomb',
      seconds: 25,
      rssLimitMb: 450,
    });
  });

  it('M8: the container fills the disk under dockward\'s state directory, then frees it', async () => {
    const mnt = join(scratch, 'full');
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]);
    try {
      mkdirSync(join(mnt, 'state'));
      mkdirSync(join(mnt, 'fill'));
      await runAttack({
        name: 'disk-full',
        attack: {
          cmd: ['sh', '-c', 'dd if=/dev/zero of=/fill/x bs=1M 2>/dev/null; sleep 15; rm /fill/x; sleep 600'],
          hostConfig: { Binds: [`${join(mnt, 'fill')}:/fill`] },
        },
        stateDir: join(mnt, 'state'),
        seconds: 30,
        rssLimitMb: 450,
        // While the disk is full the canary's lines wait in the engine (logs can be replayed); after it, they come.
        maxLagSec: 30,
        during: async ({ dockward }) => {
          const deadline = Date.now() + 20_000;
          for (;;) {
            const h = await dockward.health();
            if (h.status === 503 && /ENOSPC/.test(JSON.stringify(h.body))) return;
            if (Date.now() > deadline) assert.fail(`/health never said the spool cannot write: ${JSON.stringify(h.body)}`);
            await new Promise((r) => setTimeout(r, 250));
          }
        },
      });
    } finally {
      execFileSync('umount', ['-l', mnt]);
    }
  });

  it('L4: a label named toString beside a user rule on an object field', async () => {
    const rules = join(scratch, 'user-rules.yml');
    writeFileSync(rules, `rules:
  - id: user-tier-shell
    name: Shell in a tiered container
    description: A shell started in a container labelled with a tier.
    kind: process
    severity: low
    risk_score: 21
    condition: { all: [ { field: container.labels, contains: web }, { field: process.name, in: [sh, sleep] } ] }
    examples: { match: [ { container: { labels: { tier: web } }, process: { name: sh } } ], no_match: [ { process: { name: bash } } ] }
`);
    await runAttack({
      name: 'tostring-label',
      attack: { labels: { tier: 'web', toString: 'x', valueOf: 'y' }, cmd: execLoop },
      sets: [`detect.rules=[${rules}]`],
      seconds: 10,
      rssLimitMb: 400,
      // The canary, /health and the bounds above are the proof; the log must not show the throw either.
      after: async ({ dockward }) => {
        assert.doesNotMatch(dockward.log, /Cannot convert object to primitive value|detect\.rule\.error/);
      },
    });
  });
});
