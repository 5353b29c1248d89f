import { request } from 'node:http';
import { loadOrExit, type GlobalOptions } from './common';

/**
 * `dockward health`: asks a running dockward's /health endpoint, at the address the same
 * configuration gives it (http.host and http.port from the file, DOCKWARD_HTTP__* or -E), and exits
 * 0 when it answers 200 (delivering), 1 otherwise (degraded, not listening, or http disabled).
 * The container image's HEALTHCHECK runs it, so the check follows the configuration.
 */
export async function healthCommand(opts: GlobalOptions & { timeout?: string }): Promise<void> {
  const cfg = loadOrExit(opts);
  const fail = (why: string) => {
    process.stdout.write(`unhealthy: ${why}\n`);
    process.exitCode = 1;
  };
  if (!cfg.http.enabled) return fail('http.enabled is false: no health endpoint to ask');
  if (cfg.http.port === 0) return fail('http.port is 0 (a random port): set a fixed port to be checked');
  // A wildcard listen address is reached on loopback.
  const host = ['0.0.0.0', '::', ''].includes(cfg.http.host) ? '127.0.0.1' : cfg.http.host;
  const timeoutMs = Number(opts.timeout ?? 4000);
  try {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host, port: cfg.http.port, path: '/health', timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
    if (status === 200) process.stdout.write(`healthy: ${body.trim()}\n`);
    else fail(`HTTP ${status} ${body.trim()}`);
  } catch (err) {
    fail(`http://${host}:${cfg.http.port}/health: ${(err as Error).message}`);
  }
}
