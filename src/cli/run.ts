import { Pipeline } from '../pipeline';
import { clientOptions, probeCluster } from '../ship/client';
import { createEsLogTransport } from '../telemetry/es-log-transport';
import { indexTemplatesStep } from '../setup/index-templates';
import { runSetup } from '../setup/steps';
import { loadOrExit, telemetryFor, type GlobalOptions } from './common';
import { duration } from '../config/units';
import { connectDocker } from '../docker/engine';
import { resolveHostIdentity } from '../enrich/host';

export interface RunOptions extends GlobalOptions {
  stopAfter?: string;
}

/** `dockward run`: the shipper. Stops cleanly on SIGTERM/SIGINT (or after --stop-after). */
export async function runCommand(opts: RunOptions): Promise<void> {
  const cfg = loadOrExit(opts);
  const telemetry = telemetryFor(cfg);
  const stopAfter = opts.stopAfter ? duration.parse(opts.stopAfter) : undefined;
  // Before any component is built: each builds its documents' base fields (host.*) once.
  const host = await resolveHostIdentity(connectDocker(cfg.docker), cfg.host, cfg.state_dir, (why) => telemetry.event('host.identity.fallback', 'warn', why));
  telemetry.event('host.identity', 'info', `host.name ${host.name} (from ${host.source === 'engine' ? "the Docker engine's info" : host.source === 'config' ? 'host.name in the config' : 'this machine'})${host.id ? `, host.id ${host.id}` : ''}${host.agentId ? `, agent.id ${host.agentId}` : ''}`);
  const pipeline = new Pipeline(cfg, telemetry);
  const esLog = cfg.logging.elasticsearch.enabled
    ? createEsLogTransport(cfg.logging.elasticsearch, clientOptions(cfg.elasticsearch), cfg.namespace, () => telemetry.internalLogErrors.inc())
    : undefined;
  if (esLog) telemetry.logger.add(esLog);

  if (cfg.setup.templates !== 'never') {
    try {
      const cluster = await probeCluster(pipeline.client);
      const results = await runSetup({ client: pipeline.client, cluster, telemetry }, [indexTemplatesStep.name]);
      if (results.some((r) => r.status === 'failed')) {
        telemetry.event('run.setup.incomplete', 'warn', 'templates could not be installed; run `dockward setup` with a privileged user (documents may get default mappings)');
      }
    } catch (err) {
      // Elasticsearch may be down at start: the sink retries; templates are installed by `setup`.
      telemetry.event('run.setup.skipped', 'warn', `template check skipped: ${(err as Error).message}`);
    }
  }

  await pipeline.start();
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    telemetry.event('run.stopping', 'info', `stopping (${why})`);
    await pipeline.stop();
    // Own log documents still buffered get a last, bounded chance.
    if (esLog) {
      await new Promise((r) => setImmediate(r)); // winston hands the last lines to transports a tick later
      await Promise.race([esLog.flush(), new Promise((r) => setTimeout(r, 3000))]).catch(() => undefined);
    }
    telemetry.logger.end();
    process.exitCode = 0;
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  if (stopAfter !== undefined) setTimeout(() => void stop(`--stop-after ${opts.stopAfter}`), stopAfter);
}
