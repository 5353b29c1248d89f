import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the real Elasticsearch that resets connections and delays traffic at
 * random: the faults a healthy cluster never gives on its own. Loopback only.
 */
export class ChaosProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  resets = 0;
  delayed = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly opts: { resetChance: number; delayChance: number; maxDelayMs: number },
  ) {}

  async listen(): Promise<number> {
    this.server = createServer((client) => this.handle(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    const pipe = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (Math.random() < this.opts.resetChance) {
          this.resets++;
          client.resetAndDestroy();
          drop();
          return;
        }
        if (Math.random() < this.opts.delayChance) {
          this.delayed++;
          from.pause();
          setTimeout(() => {
            if (!to.destroyed) to.write(chunk);
            from.resume();
          }, Math.random() * this.opts.maxDelayMs);
          return;
        }
        to.write(chunk);
      });
    pipe(client, upstream);
    pipe(upstream, client);
  }
}
