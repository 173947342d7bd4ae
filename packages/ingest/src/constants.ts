/** Bounds of line-protocol ingest, with units, and why each is what it is. */

/**
 * A write request's body, after gzip is undone, may hold at most this many bytes (413 past it).
 * InfluxDB 1.x's default `max-body-size` is 25,000,000 bytes, so clients (Telegraf batches 1,000
 * metrics, a few hundred KiB; the InfluxDB client libraries 5,000 lines) are sized well below it.
 * The whole body is held while it is parsed: InfluxDB 2.x writes nothing of a body that has a
 * malformed line, so no line may be written before the last one has been read.
 */
export const writeBodyBytesMax = 25_000_000;

/**
 * The bodies of all write requests being read or parsed on a node together. A request takes room
 * for its body before reading it (its declared length, or writeBodyBytesMax when it is gzip or
 * of unknown length) and is not read (TCP pushes back on its client) until there is room: memory
 * stays bounded whatever the clients send. Eight full-size bodies.
 */
export const writeBodiesInflightBytesMax = 8 * writeBodyBytesMax;

/**
 * Requests waiting for room under writeBodiesInflightBytesMax; past it a request is refused at
 * once with 503 and Retry-After (InfluxDB's answer when its write queue is full), so waiting
 * requests cannot pile up without bound either.
 */
export const writeRequestsWaitingMax = 256;

/**
 * Fields in one line: a time-series table has at most 4,096 columns (KWDB's limit), one of which
 * is the timestamp.
 */
export const lineFieldsMax = 4095;

/**
 * Tags in one line: a time-series table has at most 128 tags, one of which is the synthetic
 * primary tag.
 */
export const lineTagsMax = 127;

/**
 * Distinct series texts ("measurement,tag=value,…" as sent) whose parsed tags the parser keeps
 * during one request, so a series' tags are unescaped and checked once, not on every line. Past
 * it the cache starts over (a request with more series is just parsed more slowly).
 */
export const seriesCachedMax = 100_000;

/** Distinct field keys the parser keeps as strings during one request (made once, then shared). */
export const fieldKeysCachedMax = 10_000;

/** Rejected lines named in one error answer (each up to lineEchoCharsMax of the line); the rest are counted. */
export const errorLinesReportedMax = 100;

/** How much of a rejected line an error message repeats. */
export const lineEchoCharsMax = 256;

/**
 * Successful logins remembered so that a client sending its password with every request (all of
 * them do) pays the SCRAM key derivation (4,096 PBKDF2 rounds, ~5 ms) once, not per request. An
 * entry is valid only while the role's stored verifier is the same, so ALTER USER … PASSWORD or
 * DROP USER takes effect at the next request.
 */
export const loginsCachedMax = 1024;
