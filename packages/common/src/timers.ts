/**
 * Time as the storage layers see it: the wall clock and timers, injected so that the in-process
 * cluster simulation can run many nodes on one virtual clock (each with its own rate and offset)
 * and replay a seed exactly. Production uses the real ones.
 */
export interface TimerHandle {
  /** Lets the process exit while the timer is pending (real timers only). */
  unref?(): void;
}

export interface Timers {
  /** Milliseconds since the epoch, as this node's clock reads them. */
  now(): number;
  setTimeout(f: () => void, ms: number): TimerHandle;
  clearTimeout(h: TimerHandle): void;
  setInterval(f: () => void, ms: number): TimerHandle;
  clearInterval(h: TimerHandle): void;
  /** Runs f after the current turn (after pending promise callbacks). */
  setImmediate(f: () => void): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (f, ms) => setInterval(f, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  setImmediate: (f) => void setImmediate(f),
};

/** Resolves after `ms` on the given timers. */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((res) => timers.setTimeout(res, ms));
}
