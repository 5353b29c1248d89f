import type { AckToken } from './envelope';

/**
 * Turns out-of-order acknowledgements into an in-order cursor. A source issues one token per
 * document, in the order it read them; `onCommit` is called with the cursor of the newest document
 * such that it and every document before it reached a final outcome. So a cursor saved from here
 * never skips a document that Elasticsearch has not stored.
 */
export class AckTracker<C> {
  private cursors: C[] = [];
  private done: boolean[] = [];
  /** Sequence number of cursors[0]; tokens hold absolute sequence numbers. */
  private base = 0;
  /** Index in the arrays of the oldest document not yet final. */
  private head = 0;

  constructor(private readonly onCommit: (cursor: C) => void) {}

  issue(cursor: C): AckToken {
    const seq = this.base + this.cursors.length;
    this.cursors.push(cursor);
    this.done.push(false);
    return { done: () => this.complete(seq) };
  }

  /** Documents issued and not yet final. */
  get pending(): number {
    return this.cursors.length - this.head;
  }

  private complete(seq: number): void {
    const index = seq - this.base;
    if (index < this.head || this.done[index]) return; // a second outcome for one document: ignore
    this.done[index] = true;
    if (index !== this.head) return;
    while (this.head < this.cursors.length && this.done[this.head]) this.head++;
    const committed = this.cursors[this.head - 1];
    if (this.head >= 1024 && this.head * 2 >= this.cursors.length) {
      this.cursors = this.cursors.slice(this.head);
      this.done = this.done.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
    this.onCommit(committed);
  }
}
