import { EventEmitter } from 'node:events';
import type Docker from 'dockerode';
import type { Telemetry } from '../telemetry/telemetry';
import { sleep } from '../ship/queue';

/** One message of `GET /events`, as the engine sends it. */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  scope?: string;
  time: number;
  /** Lossy (above 2^53): use `nano`. */
  timeNano: number;
  /** Exact nanoseconds since the epoch, read from the raw text. */
  nano: bigint;
}

const TIME_NANO = /"timeNano":(\d+)/;

/**
 * The engine's event stream, shared by every part that reacts to it (the events collector ships
 * it, the logs collector follows new containers, the metadata cache refreshes). It reconnects with
 * backoff when the engine goes away, resuming with `since` at the last event seen, and emits:
 *   'event' (EngineEvent), 'connected' (first time and after every reconnect: rescan containers).
 */
export class EngineEventStream extends EventEmitter {
  private stream: NodeJS.ReadableStream | undefined;
  private running = false;
  private lastNano: bigint | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly docker: Docker, private readonly telemetry: Telemetry) {
    super();
  }

  /** Starts reading; `sinceNano` replays events kept by the engine from that moment on. */
  start(sinceNano?: bigint): void {
    this.running = true;
    this.lastNano = sinceNano;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    (this.stream as unknown as { destroy?: () => void })?.destroy?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (this.running) {
      try {
        const since = this.lastNano === undefined ? undefined : nanoToSince(this.lastNano);
        const stream = (await this.docker.getEvents((since ? { since } : {}) as never)) as unknown as NodeJS.ReadableStream;
        this.stream = stream;
        attempt = 0;
        // Nothing seen yet: a reconnect must still replay from here, not from whenever it succeeds.
        if (this.lastNano === undefined) this.lastNano = BigInt(Date.now()) * 1_000_000n;
        this.telemetry.event('engine.events.connected', 'debug', 'engine event stream connected', { since });
        this.emit('connected');
        await this.read(stream);
        if (this.running) this.telemetry.event('engine.events.lost', 'warn', 'engine event stream ended; reconnecting');
      } catch (err) {
        if (!this.running) break;
        this.telemetry.event('engine.events.error', attempt === 0 ? 'warn' : 'debug', `engine event stream: ${(err as Error).message}`);
      }
      if (this.running) await sleep(Math.min(10_000, 250 * 2 ** attempt++));
    }
  }

  private read(stream: NodeJS.ReadableStream): Promise<void> {
    return new Promise((resolve) => {
      let buf = '';
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let ev: EngineEvent;
          try {
            ev = JSON.parse(line) as EngineEvent;
            const exact = TIME_NANO.exec(line);
            ev.nano = exact ? BigInt(exact[1]) : BigInt(ev.time) * 1_000_000_000n;
          } catch {
            this.telemetry.event('engine.events.unparsable', 'warn', 'unparsable engine event skipped', { line: line.slice(0, 500) });
            continue;
          }
          if (this.lastNano === undefined || ev.nano > this.lastNano) this.lastNano = ev.nano;
          this.telemetry.engineEvents.inc({ type: ev.Type });
          this.emit('event', ev);
        }
      });
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', resolve);
    });
  }
}

export function nanoToSince(n: bigint): string {
  return `${n / 1_000_000_000n}.${String(n % 1_000_000_000n).padStart(9, '0')}`;
}
