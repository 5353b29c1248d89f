import type { IncomingMessage } from 'node:http';

/** A request's whole body as text (the fake servers below test/ read every body this way). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
