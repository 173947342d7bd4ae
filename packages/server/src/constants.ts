/** Bounds of a node, with units, and why each is what it is. */

/**
 * A node certificate or CA that expires within this many days is logged as a warning at every
 * start: a month leaves time to issue and roll out new certificates (the node refuses to start
 * once one has expired).
 */
export const certificateExpiryWarningDays = 30;
