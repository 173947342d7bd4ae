/**
 * The messages of one connection that have arrived but are not handled yet, in order. The
 * connection's message loop and a running COPY FROM STDIN both take from it, so COPY data sent
 * in the same write as the COPY itself (pipelining) is never lost or reordered.
 *
 * INVARIANT: `bytes` is the sum of the body lengths queued; the owner pauses its socket while it
 *   exceeds the bound it chose (onOver) and resumes once it has drained to half (onUnder).
 */
import type { Frame } from './framer.js';

export class Inbox {
  private readonly q: Frame[] = [];
  private head = 0;
  private bytes = 0;
  private over = false;
  private closed = false;
  private waiter: (() => void) | null = null;

  constructor(
    private readonly bytesMax: number,
    private readonly onOver: () => void,
    private readonly onUnder: () => void,
  ) {}

  get length(): number {
    return this.q.length - this.head;
  }

  push(f: Frame): void {
    this.q.push(f);
    this.bytes += f.body.length + 5;
    if (!this.over && this.bytes > this.bytesMax) {
      this.over = true;
      this.onOver();
    }
    this.wake();
  }

  /** No more messages will come (the socket closed): a waiting taker gets null. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Wakes a waiting taker without a message (e.g. a cancel or a timeout to look at). */
  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next message if one is queued (null if none, or closed). */
  shift(): Frame | null {
    if (this.head >= this.q.length) return null;
    const f = this.q[this.head] as Frame;
    this.q[this.head++] = undefined as unknown as Frame;
    if (this.head > 1024 && this.head * 2 > this.q.length) {
      this.q.splice(0, this.head);
      this.head = 0;
    }
    this.bytes -= f.body.length + 5;
    if (this.over && this.bytes <= this.bytesMax / 2) {
      this.over = false;
      this.onUnder();
    }
    return f;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves when a message arrives, the inbox closes or wake() is called. */
  wait(): Promise<void> {
    if (this.length > 0 || this.closed) return Promise.resolve();
    return new Promise<void>((res) => {
      this.waiter = res;
    });
  }
}
