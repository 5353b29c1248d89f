import { z } from 'zod';
import { duration } from '../config/units';
import { emailType } from './email';
import type { Destination } from './message';
import { routeConfig } from './router';
import { slackType } from './slack';
import { webhookType } from './webhook';

/** Destination types by name; a new one is a file beside these and a line here. */
export const DESTINATION_TYPES = {
  slack: slackType,
  webhook: webhookType,
  email: emailType,
} as const;

const destinationConfig = z.discriminatedUnion('type', [slackType.config, webhookType.config, emailType.config]);
export type DestinationConfig = z.output<typeof destinationConfig>;

export const notifyConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** Kibana base URL (e.g. https://kibana.example:5601); messages then link to the alert in Discover. */
    kibana_url: z.url({ protocol: /^https?$/ }).optional(),
    /** Discover data view id for the link (Kibana's default data view when absent). */
    kibana_data_view: z.string().optional(),
    destinations: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), destinationConfig).default({}),
    routes: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), routeConfig).default({}),
    /** On shutdown, how long open incidents' summaries and queued messages may take. */
    shutdown_grace: duration.prefault('5s'),
  })
  .strict()
  .prefault({})
  .superRefine((cfg, ctx) => {
    for (const [name, r] of Object.entries(cfg.routes)) {
      r.destinations.forEach((d, i) => {
        if (!cfg.destinations[d]) ctx.addIssue({ code: 'custom', path: ['routes', name, 'destinations', i], message: `no destination "${d}" in notify.destinations` });
      });
    }
  });
export type NotifyConfig = z.output<typeof notifyConfig>;

export function createDestination(name: string, cfg: DestinationConfig): Destination {
  switch (cfg.type) {
    case 'slack':
      return DESTINATION_TYPES.slack.create(name, cfg);
    case 'webhook':
      return DESTINATION_TYPES.webhook.create(name, cfg);
    case 'email':
      return DESTINATION_TYPES.email.create(name, cfg);
  }
}
