import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer, seqCommand } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll, waitForCount } from '../support/elasticsearch';

describe('TLS and authentication (security-on Elasticsearch)', () => {
  const e = engines();
  const ns = newNamespace('tls');
  const admin = new Client({ node: e.tls.url, auth: e.tls.admin, tls: { ca: require('node:fs').readFileSync(e.tls.ca) } });
  const procs: DockwardProcess[] = [];
  const tlsSets = (user: { username: string; password: string }, extra: string[] = []) => [
    `elasticsearch.hosts=[${e.tls.url}]`,
    `elasticsearch.username=${user.username}`,
    `elasticsearch.password=${user.password}`,
    `elasticsearch.ssl.certificate_authorities=[${e.tls.ca}]`,
    ...extra,
  ];
  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await removeContainers(e.docker, ns);
    await admin.close();
  });

  it('sets up as admin and ships as the least-privileged writer over verified TLS', async () => {
    const setup = DockwardProcess.run({ namespace: ns, command: ['setup', '--index-management'], sets: tlsSets(e.tls.admin) });
    assert.equal(await setup.wait(), 0, setup.log);
    const { id } = await runContainer(e.docker, { name: `${ns}-c`, cmd: seqCommand('secure', 500), wait: true });
    const dw = DockwardProcess.run({ namespace: ns, sets: tlsSets(e.tls.writer) });
    procs.push(dw);
    const index = `logs-dockward.container-${ns}`;
    assert.equal(await waitForCount(admin, index, 500, 60_000, { term: { 'container.id': id } }, dw.alive), 500, dw.log.slice(-2000));
    const docs = await fetchAll<{ message: string }>(admin, index, { term: { 'container.id': id } });
    assert.equal(new Set(docs.map((d) => d.message)).size, 500);
  });

  it('check passes with the CA and fails clearly without it or with a wrong password', async () => {
    const ok = DockwardProcess.run({ namespace: ns, command: ['check'], sets: tlsSets(e.tls.writer) });
    assert.equal(await ok.wait(), 0, ok.log);
    assert.match(ok.log, /elasticsearch ok: https:\/\/127\.0\.0\.1:\d+ — 9\./);
    assert.match(ok.log, /licence trial/);

    const noCa = DockwardProcess.run({ namespace: ns, command: ['check'], sets: [`elasticsearch.hosts=[${e.tls.url}]`, `elasticsearch.username=${e.tls.writer.username}`, `elasticsearch.password=${e.tls.writer.password}`] });
    assert.equal(await noCa.wait(), 1);
    assert.match(noCa.log, /elasticsearch FAILED: .*(certificate|self.signed|issuer)/i);

    const badPw = DockwardProcess.run({ namespace: ns, command: ['check'], sets: tlsSets({ username: e.tls.writer.username, password: 'wrong' }) });
    assert.equal(await badPw.wait(), 1);
    assert.match(badPw.log, /elasticsearch FAILED: .*(401|unable to authenticate|security_exception)/i);
  });
});
