/** Bounds of the wire protocol, with units. */

/** A startup packet larger than this is refused (PostgreSQL uses the same bound). */
export const startupPacketBytesMax = 10_000;

/**
 * Any other frontend message larger than this is refused with 08P01 and the connection closed.
 * 64 MiB fits any reasonable statement or parameter set while bounding per-connection memory.
 */
export const messageBytesMaxDefault = 64 * 1024 * 1024;

/** Output is written to the socket once this many bytes are buffered. */
export const outputFlushBytes = 256 * 1024;

/** Above this much unsent output, the statement pauses until the client reads (backpressure). */
export const outputBackpressureBytes = 8 * 1024 * 1024;

/** Parameters in one Bind (PostgreSQL's limit). */
export const bindParamsMax = 65_535;

/** Connections served at once; more are refused with 53300. */
export const connectionsMaxDefault = 1000;

export const protocolVersion3 = 196608;
export const sslRequestCode = 80877103;
export const gssEncRequestCode = 80877104;
export const cancelRequestCode = 80877102;
