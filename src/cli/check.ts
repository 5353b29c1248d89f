import { connectDocker, probeEngine } from '../docker/engine';
import { createClient, probeCluster } from '../ship/client';
import { loadAll } from '../detect/rule-source';
import { formatIssue } from '../detect/rules';
import { STREAMS } from '../setup/index-templates';
import { kernelCheckLine } from '../collect/kernel/collector';
import { auditCheckLine } from '../collect/audit/check';
import { connectionsCheckLine } from '../collect/connections';
import { configPath, loadOrExit, type GlobalOptions } from './common';

export interface CheckOptions extends GlobalOptions {
  offline?: boolean;
}

/**
 * `dockward check`: the configuration (no I/O), then, unless --offline, the engine and the
 * cluster: version, licence, templates. Exit 0 only when everything answered.
 */
export async function checkCommand(opts: CheckOptions): Promise<void> {
  const cfg = loadOrExit(opts);
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`config ok (${configPath(opts) ?? 'defaults'}; namespace ${cfg.namespace})`);
  let failed = false;
  if (cfg.detect.enabled) {
    const { rules, issues } = loadAll(cfg.detect);
    for (const i of issues) out(`  ${formatIssue(i)}`);
    out(`rules ${issues.length ? 'FAILED' : 'ok'}: ${rules.length} loaded${issues.length ? `, ${issues.length} problem(s): those rules would be left out` : ''}`);
    failed = issues.length > 0;
  }
  out(await kernelCheckLine(cfg.collectors.kernel)); // local: the kernel, not the network
  out(await auditCheckLine(cfg.collectors.audit, cfg.collectors.kernel));
  out(connectionsCheckLine(cfg.collectors.connections));
  if (opts.offline) {
    if (failed) process.exitCode = 1;
    return;
  }
  try {
    const e = await probeEngine(connectDocker(cfg.docker), cfg.docker.host);
    out(`docker ok: ${cfg.docker.host} — engine ${e.version} (API ${e.apiVersion}), storage ${e.storageDriver}, log driver ${e.loggingDriver}`);
    if (!['json-file', 'local', 'journald'].includes(e.loggingDriver)) out(`  warning: default log driver ${e.loggingDriver} cannot be read through the API`);
  } catch (err) {
    failed = true;
    out(`docker FAILED: ${(err as Error).message}`);
  }
  const client = createClient(cfg.elasticsearch);
  try {
    const c = await probeCluster(client);
    out(`elasticsearch ok: ${cfg.elasticsearch.hosts.join(', ')} — ${c.version} on node ${c.nodeName}, licence ${c.license ? `${c.license.type} (${c.license.status})` : 'unknown'}`);
    const res = await client.indices.getIndexTemplate({ name: '*-dockward.*' }, { ignore: [404] });
    const have = new Set((res.index_templates ?? []).map((t) => t.name));
    const missing = STREAMS.map(([t, d]) => `${t}-${d}`).filter((n) => !have.has(n));
    out(missing.length ? `templates: ${missing.length} missing (${missing.join(', ')}): run \`dockward setup --index-management\`` : `templates ok (${have.size})`);
  } catch (err) {
    failed = true;
    out(`elasticsearch FAILED: ${(err as Error).message}`);
  } finally {
    await client.close();
  }
  if (failed) process.exitCode = 1;
}
