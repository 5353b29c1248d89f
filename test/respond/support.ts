import type Docker from 'dockerode';
import winston from 'winston';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Responder } from '../../src/respond/responder';
import { respondConfig, type RespondConfig } from '../../src/respond/policy';
import type { Envelope } from '../../src/ship/envelope';
import { Telemetry } from '../../src/telemetry/telemetry';

export interface Recorded {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A real Telemetry (silent) that keeps the events it was given. */
export function recordingTelemetry(): { telemetry: Telemetry; events: Recorded[] } {
  const telemetry = new Telemetry(winston.createLogger({ silent: true }));
  const events: Recorded[] = [];
  const event = telemetry.event.bind(telemetry);
  telemetry.event = (name, level, message, fields = {}) => {
    events.push({ name, message, fields });
    event(name, level, message, fields);
  };
  return { telemetry, events };
}

/**
 * An engine that records what it is asked to do. `images`: image id → its labels (`LABEL` in the
 * Dockerfile); an id not listed answers 404, as for a removed image.
 */
export function fakeEngine(images: Record<string, Record<string, string>> = {}) {
  const actions: string[] = [];
  const imageInspects: string[] = [];
  const act = (what: string, id: string) => async () => {
    actions.push(`${what} ${id}`);
  };
  const docker = {
    getContainer: (id: string) => ({ pause: act('pause', id), stop: act('stop', id), kill: act('kill', id), inspect: async () => ({ NetworkSettings: { Networks: {} } }) }),
    getImage: (id: string) => ({
      inspect: async () => {
        imageInspects.push(id);
        if (!images[id]) throw Object.assign(new Error(`No such image: ${id}`), { statusCode: 404 });
        return { Id: id, Config: { Labels: images[id] } };
      },
    }),
  } as unknown as Docker;
  return { docker, actions, imageInspects };
}

/** The respond block of docs/notifications.md, as documented. */
export function documentedRespondBlock(): Record<string, unknown> {
  const md = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'notifications.md'), 'utf8');
  const section = md.slice(md.indexOf('## Response actions'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1];
  return (parse(yaml) as { respond: Record<string, unknown> }).respond;
}

export interface Harness {
  responder: Responder;
  audits: Envelope[];
  actions: string[];
  imageInspects: string[];
  events: Recorded[];
  telemetry: Telemetry;
  cfg: RespondConfig;
  clock: { now: number };
}

export function harness(cfg: Record<string, unknown>, images: Record<string, Record<string, string>> = {}): Harness {
  const parsed = respondConfig.parse({ enabled: true, mode: 'enforce', ...cfg });
  const { docker, actions, imageInspects } = fakeEngine(images);
  const { telemetry, events } = recordingTelemetry();
  const audits: Envelope[] = [];
  const clock = { now: 1_800_000_000_000 };
  const responder = new Responder(parsed, 'default', docker, (e) => audits.push(e), telemetry, undefined, () => clock.now);
  return { responder, audits, actions, imageInspects, events, telemetry, cfg: parsed, clock };
}

export const cid = (n: number | string) => String(n).padStart(2, '0').repeat(32);
export const IMAGE = `sha256:${'ab'.repeat(32)}`;

let seq = 0;
/** An alert as the detector writes it, resting on `evidence`. */
export function alert(rule: string, container: Record<string, unknown>, evidence = 'process', severity = 'critical', tags: string[] = []): Envelope {
  seq++;
  return {
    index: 'logs-dockward.alert-default',
    id: `a${seq}`,
    doc: {
      rule: { id: rule, name: rule },
      tags,
      container: { image: { name: 'app', hash: { all: [IMAGE] } }, labels: {}, ...container },
      dockward: { alert: { group_id: `g${seq}`, severity, evidence, summary: false } },
    },
  };
}

type Response = { outcome: string; reason: string; action: string };
export const response = (e: Envelope) => (e.doc.dockward as { response: Response }).response;
export const ruleOf = (e: Envelope) => (e.doc.rule as { id: string }).id;
