import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEndpoint, isLoopback, parseProcNet, TCP_STATES } from '../../src/collect/proc-net';

// Tables captured from the host (/proc/<container pid>/net/…) for --network none containers of
// dockward/lab:1 and dockward/busybox:1: nc -lk 4444 with a client, a connection still in the accept
// queue (inode 0), a TIME_WAIT, a bash /dev/tcp socket, nc -u -l 5353 with a connected client;
// busybox nc listening on :: (IPv4-mapped addresses); an IPv6 pair on ::1.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 00000000:115C 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 748700 2 000000008c4759bd 100 0 0 10 0                    
   1: 0100007F:115C 0100007F:D6BE 01 00000000:00000000 00:00000000 00000000     0        0 748826 1 000000007e52069d 20 0 0 10 -1                    
   2: 0100007F:115C 0100007F:D6CC 01 00000000:00000000 00:00000000 00000000     0        0 0 1 00000000f160a09c 20 0 0 10 -1                         
   3: 0100007F:D6BA 0100007F:115C 06 00000000:00000000 03:000016D0 00000000     0        0 0 3 000000007162498a                                      
   4: 0100007F:D6BE 0100007F:115C 01 00000000:00000000 00:00000000 00000000     0        0 748829 1 00000000adbacd08 20 0 0 10 -1                    
   5: 0100007F:D6CC 0100007F:115C 01 00000000:00000000 00:00000000 00000000     0        0 748832 1 000000000a21e34a 20 0 0 10 -1                    
`;
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
 4243: 0100007F:ADF9 0100007F:14E9 01 00000000:00000000 00:00000000 00000000     0        0 748822 2 00000000df7354da 0        
14211: 0100007F:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 748527 2 00000000286fb10b 0        
`;
const TCP6_MAPPED = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:115C 0000000000000000FFFF00000100007F:CB9E 06 00000000:00000000 03:000016D4 00000000     0        0 0 3 000000001fa9432d
`;
const TCP6_LOOPBACK = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1A0A 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 752422 1 0000000000e84222 100 0 0 10 0
   1: 00000000000000000000000001000000:A6A2 00000000000000000000000001000000:1A0A 01 00000000:00000000 00:00000000 00000000     0        0 752427 2 0000000028f9c727 20 0 0 10 -1
   2: 00000000000000000000000001000000:1A0A 00000000000000000000000001000000:A6A2 01 00000000:00000000 00:00000000 00000000     0        0 752423 1 000000005f6f25e7 20 0 0 10 -1
`;

const view = (text: string, t: 'tcp' | 'udp') =>
  parseProcNet(text, t).map((s) => {
    const l = decodeEndpoint(s.local);
    const r = decodeEndpoint(s.remote);
    return `${l.ip}:${l.port} ${r.ip}:${r.port} ${TCP_STATES[s.st] ?? s.st} ${s.inode}`;
  });

describe('/proc/net tables (captured from real containers)', () => {
  it('tcp: a listener, both ends of two connections, one in the accept queue, a TIME_WAIT', () => {
    assert.deepEqual(view(TCP, 'tcp'), [
      '0.0.0.0:4444 0.0.0.0:0 LISTEN 748700',
      '127.0.0.1:4444 127.0.0.1:54974 ESTABLISHED 748826',
      '127.0.0.1:4444 127.0.0.1:54988 ESTABLISHED 0',
      '127.0.0.1:54970 127.0.0.1:4444 TIME_WAIT 0',
      '127.0.0.1:54974 127.0.0.1:4444 ESTABLISHED 748829',
      '127.0.0.1:54988 127.0.0.1:4444 ESTABLISHED 748832',
    ]);
    const tw = parseProcNet(TCP, 'tcp')[3];
    assert.equal(tw.timerMs, 0x16d0 * 10, 'TIME_WAIT keeps its timer (clock ticks)');
    assert.equal(parseProcNet(TCP, 'tcp')[0].uid, 0);
  });

  it('udp: an unconnected listener and a connected client (wide sl column)', () => {
    assert.deepEqual(view(UDP, 'udp'), ['127.0.0.1:44537 127.0.0.1:5353 ESTABLISHED 748822', '127.0.0.1:5353 0.0.0.0:0 CLOSE 748527']);
    assert.ok(parseProcNet(UDP, 'udp').every((s) => s.transport === 'udp' && s.key.startsWith('udp ')));
  });

  it('tcp6: IPv4-mapped addresses are given as IPv4; ::1 in RFC 5952 form', () => {
    assert.deepEqual(view(TCP6_MAPPED, 'tcp'), ['127.0.0.1:4444 127.0.0.1:52126 TIME_WAIT 0']);
    assert.deepEqual(view(TCP6_LOOPBACK, 'tcp'), ['::1:6666 :::0 LISTEN 752422', '::1:42658 ::1:6666 ESTABLISHED 752427', '::1:6666 ::1:42658 ESTABLISHED 752423']);
    assert.ok(isLoopback('::1') && isLoopback('127.0.0.53') && !isLoopback('10.0.0.1'));
  });

  it('an IPv6 address with groups on both sides of the zero run', () => {
    // fe80::1:2 as the kernel prints it: four little-endian words
    assert.equal(decodeEndpoint('000080FE000000000000000002000100:0050').ip, 'fe80::1:2');
  });

  it('skips headers, blank and truncated lines', () => {
    assert.deepEqual(parseProcNet(TCP.split('\n')[0] + '\n\n   7: 0100007F:115C\n', 'tcp'), []);
  });

  it('parses every one of 20,000 sockets (speed: bench/connections.ts)', () => {
    const line = TCP.split('\n')[2];
    const big = TCP.split('\n')[0] + '\n' + Array.from({ length: 20_000 }, () => line).join('\n') + '\n';
    const parsed = parseProcNet(big, 'tcp');
    assert.equal(parsed.length, 20_000);
    assert.deepEqual(parsed[19_999], parsed[0]);
  });
});
