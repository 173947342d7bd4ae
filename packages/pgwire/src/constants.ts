/** Bounds of the wire protocol, with units, and why each is what it is. */

/** A startup packet larger than this is refused (PostgreSQL's MAX_STARTUP_PACKET_LENGTH). */
export const startupPacketBytesMax = 10_000;

/**
 * Messages that carry no statement text or data (Sync, Flush, Terminate, Describe, Close,
 * Execute, CopyDone, CopyFail) are refused on their header when longer than this, as PostgreSQL
 * does (PQ_SMALL_MESSAGE_LIMIT): a garbage length on such a message never makes us buffer.
 */
export const smallMessageBytesMax = 10_000;

/**
 * Query, Parse, Bind and CopyData longer than this are refused with FATAL 08P01 on their header,
 * before the body is buffered. 64 MiB fits any reasonable statement, parameter set or COPY chunk
 * while bounding what one connection can make the node hold for one incomplete message
 * (PostgreSQL allows 1 GiB, but a PostgreSQL backend is a process of its own).
 */
export const messageBytesMaxDefault = 64 * 1024 * 1024;

/** The output buffer is handed to the socket once it holds this much (one write per ~256 KiB). */
export const outputFlushBytes = 256 * 1024;

/**
 * An idle connection keeps an output buffer this small; it grows while a result is written and
 * is dropped back to this size afterwards, so a thousand idle connections cost little.
 */
export const outputIdleBufferBytes = 4 * 1024;

/**
 * Back-pressure: while more than this many bytes wait in the socket for the client to read,
 * result production pauses (simple query, Execute with or without a row limit, COPY TO) and no
 * further message is read. 8 MiB keeps a fast client's pipe full (the kernel buffers a few MiB
 * more) and bounds what a client that never reads costs.
 */
export const outputBackpressureBytes = 8 * 1024 * 1024;

/**
 * While a statement waits for the client to read, it wakes at least this often to notice a
 * statement_timeout; a CancelRequest or a closed connection wakes it at once.
 */
export const backpressureRecheckMs = 250;

/**
 * Complete messages read ahead of the one being handled (pipelining, COPY data) are held up to
 * this many bytes; beyond it the socket is paused until the queue has drained to half. Bounds
 * what a client that sends faster than we execute can make us hold.
 */
export const inboxBytesMax = 4 * 1024 * 1024;

/** Parameters in one Bind: the protocol's counts are unsigned 16-bit. */
export const bindParamsMax = 65_535;

/**
 * Result columns: PostgreSQL's MaxTupleAttributeNumber (54011 "target lists can have at most
 * 1664 entries"); also keeps RowDescription's 16-bit column count from wrapping.
 */
export const resultColumnsMax = 1664;

/** Sessions served at once (max_connections); more are refused with 53300. */
export const connectionsMaxDefault = 1000;

/**
 * Connections that have not finished startup (no startup packet yet, or TLS negotiation) are
 * held apart from max_connections, up to this many; past it the oldest of them is closed to let
 * the newest in. A real client sends its startup packet within a round trip, so a flood of
 * silent connections cannot lock it out: it would have to open this many within that round trip.
 */
export const startupConnectionsMax = 1000;

/** A connection must finish startup within this long (PostgreSQL's authentication_timeout, 1 min). */
export const startupTimeoutMsDefault = 60_000;

export const protocolVersion3 = 196608;
export const sslRequestCode = 80877103;
export const gssEncRequestCode = 80877104;
export const cancelRequestCode = 80877102;
