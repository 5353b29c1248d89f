import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BurstWindow, MAX_BURST_HOSTS, MAX_BURST_PORTS } from '../../src/collect/connection-burst';
import type { Fact } from '../../src/collect/connection-diff';

// Endpoints as /proc/net/tcp prints them: a little-endian IPv4 word and a hex port.
const hexIp = (ip: string) => ip.split('.').reverse().map((b) => Number(b).toString(16).padStart(2, '0')).join('').toUpperCase();
const hexPort = (p: number) => p.toString(16).padStart(4, '0').toUpperCase();

function fact(port: number, opts: { ip?: string; side?: 'client' | 'server'; action?: Fact['action']; short?: boolean } = {}): Fact {
  const local = `${hexIp('127.0.0.1')}:${hexPort(40000 + (port % 20000))}`;
  const remote = `${hexIp(opts.ip ?? '127.0.0.1')}:${hexPort(port)}`;
  return {
    action: opts.action ?? 'connection_opened',
    short: opts.short,
    t: { sock: { transport: 'tcp', key: `${local} ${remote}`, local, remote, st: '01', uid: 0, inode: port }, side: opts.side ?? 'client', owners: [], container: 'c1', opened: 0 },
  };
}
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('connection bursts over a sliding window', () => {
  it('a scan split across reads crosses the threshold in the read that completes it', () => {
    const w = new BurstWindow(60_000, 10);
    // Seven ports in one read and five in the next: neither read alone reaches ten.
    assert.deepEqual(w.add(range(1, 7).map((p) => fact(p)), 0), []);
    const out = w.add(range(8, 5).map((p) => fact(p)), 5_000);
    assert.equal(out.length, 1);
    assert.equal(out[0].ip, '127.0.0.1');
    assert.equal(out[0].transport, 'tcp');
    assert.deepEqual(out[0].ports, range(1, 12));
    assert.equal(out[0].count, 12);
  });

  it('a scan paced slower than the schedule is still one burst', () => {
    const w = new BurstWindow(60_000, 10);
    const bursts = range(1, 10).flatMap((p) => w.add([fact(p)], p * 5_000));
    assert.equal(bursts.length, 1);
    assert.equal(bursts[0].ports.length, 10);
  });

  it('one burst per host per window, another once the window has passed', () => {
    const w = new BurstWindow(60_000, 10);
    assert.equal(w.add(range(1, 10).map((p) => fact(p)), 0).length, 1);
    assert.equal(w.add(range(11, 50).map((p) => fact(p)), 10_000).length, 0, 'the same scan going on is not a second burst');
    // A second host in the same window has a burst of its own.
    assert.equal(w.add(range(1, 10).map((p) => fact(p, { ip: '127.0.0.2' })), 20_000).length, 1);
    assert.equal(w.add(range(100, 10).map((p) => fact(p)), 70_000).length, 1, 'a new window, a new burst');
  });

  it('ports older than the window are forgotten: a slow trickle never adds up', () => {
    const w = new BurstWindow(60_000, 10);
    // One new port every 10 s: at most six in any 60 s window.
    const bursts = range(1, 30).flatMap((p) => w.add([fact(p)], p * 10_000));
    assert.deepEqual(bursts, []);
  });

  it('counts only new client connections: server-side accepts and closes of known ones are not a scan', () => {
    const w = new BurstWindow(60_000, 10);
    const facts = [
      ...range(1, 10).map((p) => fact(p, { side: 'server' })),
      ...range(1, 10).map((p) => fact(p, { action: 'connection_closed' })),
    ];
    assert.deepEqual(w.add(facts, 0), []);
    // A connection seen only after it closed (TIME_WAIT between two reads) was new all the same.
    assert.equal(w.add(range(1, 10).map((p) => fact(p, { action: 'connection_closed', short: true })), 1_000).length, 1);
  });

  it('bounds the hosts and ports it remembers, and counts what it left out', () => {
    const w = new BurstWindow(60_000, 10);
    const hosts = range(0, MAX_BURST_HOSTS + 5).map((i) => fact(80, { ip: `127.1.${i >> 8}.${i & 255}` }));
    w.add(hosts, 0);
    assert.equal(w.takeOverflow(), 5);
    assert.equal(w.takeOverflow(), 0, 'taking the overflow resets it');
    const sweep = new BurstWindow(60_000, 10);
    const out = sweep.add(range(1, MAX_BURST_PORTS + 100).map((p) => fact(p)), 0);
    assert.equal(out.length, 1);
    assert.equal(out[0].ports.length, MAX_BURST_PORTS);
    assert.ok(out[0].facts.length <= 32, 'only the first few facts are kept to name the owners');
    assert.equal(sweep.takeOverflow(), 100);
  });
});
