import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { z } from 'zod';
import { deliveryShape } from './delivery';
import { facts, plainText, type Attempt, type Destination, type Notification } from './message';
import { resolveSecret, secretRef, type Secret } from './secret';

export const emailConfig = z
  .object({
    type: z.literal('email'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** TLS from the first byte (port 465); otherwise STARTTLS as `starttls` says. */
    secure: z.boolean().default(false),
    /** required: refuse to send in clear text; opportunistic: upgrade when offered; never: stay in clear text (a local relay). */
    starttls: z.enum(['required', 'opportunistic', 'never']).default('required'),
    username: z.string().optional(),
    password: secretRef.optional(),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
    tls: z
      .object({
        /** CA PEM file for a relay with a private certificate. */
        ca: z.string().optional(),
        verify: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    ...deliveryShape,
  })
  .strict()
  .refine((c) => !c.password || c.username, { message: 'password needs username', path: ['password'] });
export type EmailConfig = z.output<typeof emailConfig>;

/** Errors nodemailer reports for a relay that was not reached or went away: worth another try. */
const TRANSIENT = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'ECONNREFUSED']);

/**
 * Email over SMTP through nodemailer: plain text with the same facts as the Slack message.
 * SMTP's own classes decide retries: 4xx replies are transient by definition (RFC 5321 §4.2.1),
 * 5xx and authentication failures are final.
 */
export class EmailDestination implements Destination {
  readonly type = 'email';
  private readonly password: Secret | undefined;
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;

  constructor(readonly name: string, private readonly cfg: EmailConfig) {
    this.password = cfg.password ? resolveSecret(cfg.password) : undefined;
    this.transport = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      requireTLS: !cfg.secure && cfg.starttls === 'required',
      ignoreTLS: !cfg.secure && cfg.starttls === 'never',
      auth: cfg.username ? { user: cfg.username, pass: this.password?.reveal() } : undefined,
      tls: { rejectUnauthorized: cfg.tls.verify, ...(cfg.tls.ca ? { ca: readFileSync(cfg.tls.ca) } : {}) },
      connectionTimeout: cfg.timeout,
      greetingTimeout: cfg.timeout,
      socketTimeout: cfg.timeout,
      // Never let nodemailer's own logger print the session (it would include AUTH).
      logger: false,
      debug: false,
    });
  }

  secrets(): Secret[] {
    return this.password ? [this.password] : [];
  }

  async send(n: Notification, _signal: AbortSignal): Promise<Attempt> {
    const f = facts(n);
    try {
      const info = await this.transport.sendMail({
        from: this.cfg.from,
        to: this.cfg.to,
        subject: `[dockward] ${f.title}`.slice(0, 250),
        text: plainText(f, n.suppressed),
        headers: { 'X-Dockward-Group': f.groupId, 'X-Dockward-Kind': n.kind },
      });
      return { ok: true, status: 250, detail: info.response };
    } catch (err) {
      const e = err as Error & { code?: string; responseCode?: number; response?: string };
      const status = e.responseCode;
      const retry = status !== undefined ? status >= 400 && status < 500 : TRANSIENT.has(e.code ?? '');
      return { ok: false, retry, status, detail: `${e.code ?? 'SMTP'}: ${e.response ?? e.message}` };
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

export const emailType = { type: 'email', config: emailConfig, create: (name: string, cfg: EmailConfig) => new EmailDestination(name, cfg) } as const;
