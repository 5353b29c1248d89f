import { z } from 'zod';
import { deliveryShape, type DeliveryConfig } from './delivery';
import { post } from './http';
import { countText, facts, plainText, type Attempt, type Destination, type Notification } from './message';
import { resolveSecret, secretRef, type Secret } from './secret';

export const slackConfig = z
  .object({
    type: z.literal('slack'),
    /** The incoming-webhook URL holds its token: it can only be named ({ env } or { file }). */
    url: secretRef,
    /** Overrides the webhook's default channel (legacy webhooks only). */
    channel: z.string().optional(),
    username: z.string().optional(),
    ...deliveryShape,
  })
  .strict();
export type SlackConfig = z.output<typeof slackConfig>;

/** Slack's emoji-free colour code per severity, for the attachment bar. */
const COLOUR: Record<string, string> = { critical: '#b00020', high: '#e65100', medium: '#f9a825', low: '#1e88e5' };

/** Slack incoming webhook: one Block Kit message per notification (text carries the same for clients without blocks). */
export class SlackDestination implements Destination {
  readonly type = 'slack';
  private readonly url: Secret;

  constructor(readonly name: string, private readonly cfg: SlackConfig & DeliveryConfig) {
    this.url = resolveSecret(cfg.url);
  }

  secrets(): Secret[] {
    return [this.url];
  }

  render(n: Notification): Record<string, unknown> {
    const f = facts(n);
    const field = (label: string, value: string) => ({ type: 'mrkdwn', text: `*${label}*\n${value.slice(0, 1900)}` });
    const fields = [
      field('Severity', f.severity),
      field('Rule', `${f.rule} (\`${f.ruleId}\`)`),
      field('ATT&CK', f.techniques.join(', ') || '—'),
      field('Container', `${f.container} (\`${f.image}\`)`),
      field('Host', f.host),
      field('Count', countText(f)),
      field('First seen', f.firstSeen),
      field('Last seen', f.lastSeen),
    ];
    if (f.response) fields.push(field('Response', f.response));
    if (n.suppressed) fields.push(field('Throttled', `${n.suppressed} earlier message(s) held back`));
    const blocks: Array<Record<string, unknown>> = [
      { type: 'header', text: { type: 'plain_text', text: f.title.slice(0, 150) } },
      { type: 'section', fields: fields.slice(0, 10) },
    ];
    if (f.what) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + f.what.replace(/```/g, "'''") + '```' } });
    if (f.link) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Kibana' }, url: f.link }] });
    return {
      text: plainText(f, n.suppressed).slice(0, 3000),
      ...(this.cfg.channel ? { channel: this.cfg.channel } : {}),
      ...(this.cfg.username ? { username: this.cfg.username } : {}),
      attachments: [{ color: COLOUR[f.severity] ?? '#757575', blocks }],
    };
  }

  send(n: Notification, signal: AbortSignal): Promise<Attempt> {
    return post(this.url.reveal(), JSON.stringify(this.render(n)), { 'content-type': 'application/json' }, this.cfg.timeout, signal);
  }
}

export const slackType = { type: 'slack', config: slackConfig, create: (name: string, cfg: SlackConfig) => new SlackDestination(name, cfg) } as const;
