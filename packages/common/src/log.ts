import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** JSON lines on stderr (stdout is left to the CLI's own output, such as the ready line). */
let root: Logger = pino(
  {
    level: process.env.STRATA_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  },
  pino.destination({ fd: 2, sync: false }),
);

/** Replaces the root logger (the server sets its destination and level at start). */
export function setRootLogger(l: Logger): void {
  root = l;
}

export function rootLogger(): Logger {
  return root;
}

/** One logger per component, JSON lines (pino). */
export function logger(component: string): Logger {
  return root.child({ component });
}
