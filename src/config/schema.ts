import { z } from 'zod';
import { elasticsearchConfig } from '../ship/client';
import { sinkConfig } from '../ship/elasticsearch-sink';
import { logsConfig } from '../collect/logs';
import { eventsConfig } from '../collect/events';
import { processesConfig } from '../collect/processes';
import { execConfig } from '../collect/exec';
import { statsConfig } from '../collect/stats';
import { driftConfig } from '../collect/drift';
import { configSnapshotConfig } from '../collect/config-snapshot';
import { connectionsConfig } from '../collect/connections';
import { postureConfig } from '../collect/posture';
import { kernelConfig } from '../collect/kernel/collector';
import { auditConfig } from '../collect/audit/source';
import { dockerConfig } from '../docker/engine';
import { loggingConfig } from '../telemetry/logger';
import { httpConfig } from '../telemetry/http-server';
import { heartbeatConfig } from '../telemetry/heartbeat';
import { duration } from './units';
import { detectConfig } from '../detect/detector';
import { anomalyConfig } from '../anomaly/detector';
import { spoolConfig } from '../ship/spool';
import { memoryQueueConfig } from '../ship/queue';
import { notifyConfig } from '../notify/registry';
import { respondConfig } from '../respond/policy';
import { hostConfig } from '../enrich/host';
import { kibanaConfig, retentionConfig, watchersConfig } from '../setup/setup-config';

/**
 * The whole configuration. Every component's part is declared in that component's file and only
 * assembled here; unknown keys are errors, so a typo never silently falls back to a default.
 */
export const configSchema = z
  .object({
    /** Data stream namespace: documents go to `<type>-dockward.<dataset>-<namespace>`. */
    namespace: z
      .string()
      .regex(/^[a-z0-9_]{1,64}$/, 'lowercase letters, digits and "_" only (no "-": it separates data stream parts)')
      .default('default'),
    /** Where cursors and other state live. */
    state_dir: z.string().min(1).default('/var/lib/dockward'),
    /** What documents say about the host (`host.*`): from the Docker engine unless set here. */
    host: hostConfig,
    docker: dockerConfig,
    elasticsearch: elasticsearchConfig,
    output: sinkConfig,
    /** Between the flow and the sink: the disk spool (default) or a memory queue. */
    queue: z
      .object({
        type: z.enum(['disk', 'memory']).default('disk'),
        /**
         * With type disk, where documents their source can read again go (container logs, whose
         * cursor moves only on Elasticsearch's acknowledgement): `memory` (a crash costs a re-read
         * from the engine's log file) or `disk` (spooled like everything else).
         */
        replayable: z.enum(['memory', 'disk']).default('memory'),
        disk: spoolConfig,
        memory: memoryQueueConfig,
      })
      .strict()
      .prefault({}),
    collectors: z
      .object({
        logs: logsConfig,
        events: eventsConfig,
        processes: processesConfig,
        exec: execConfig,
        stats: statsConfig,
        drift: driftConfig,
        config: configSnapshotConfig,
        connections: connectionsConfig,
        posture: postureConfig,
        kernel: kernelConfig,
        audit: auditConfig,
      })
      .strict()
      .prefault({}),
    setup: z
      .object({
        /** On `run`: install or update index templates when missing or outdated (auto), or never. */
        templates: z.enum(['auto', 'never']).default('auto'),
        /** Kibana for `setup --dashboards` and, on Basic, the alerting rules. */
        kibana: kibanaConfig,
        retention: retentionConfig,
        watchers: watchersConfig,
      })
      .strict()
      .prefault({}),
    detect: detectConfig,
    anomaly: anomalyConfig,
    notify: notifyConfig,
    respond: respondConfig,
    logging: loggingConfig,
    http: httpConfig,
    heartbeat: heartbeatConfig,
    /**
     * SIGTERM: how long to keep sending what was read before stopping anyway; also the longest any
     * one source may take to stop before it is left behind (`pipeline.stop.overrun`).
     */
    shutdown_timeout: duration.prefault('10s'),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
