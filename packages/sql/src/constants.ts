/**
 * Bounds of the SQL layer, with units last. Each says why it is what it is. They exist so that one
 * statement cannot take the node's event loop or memory for itself (issue 9): work that can be cut
 * into slices yields between slices; work that cannot is bounded here and refused beyond the bound
 * with PostgreSQL's error codes.
 */

// ---- regular expressions ---------------------------------------------------------------------

/**
 * A compiled regular expression bigger than this many RE2 instructions is refused (2201B "regular
 * expression is too complex", PostgreSQL's wording for REG_ETOOBIG). Matching costs at most
 * O(instructions × input length), so this bounds one match of a 1 MB value at ~10^10 simple steps
 * in the worst case and ~1 ms per MB for ordinary patterns, which run on the DFA. PostgreSQL's own
 * bound (its NFA state limit) refuses patterns of similar size.
 */
export const regexInstructionsMax = 20_000;

/**
 * Compiled regular expressions kept per statement. A statement matching many different patterns
 * (a pattern column) recompiles beyond this instead of holding every compiled program.
 */
export const regexCacheEntriesMax = 256;

/** PostgreSQL's DUPMAX: a bound {m,n} above this is "invalid repetition count(s)". */
export const regexRepeatMax = 255;

// ---- execution ---------------------------------------------------------------------------------

/**
 * The driver returns to the event loop at least this often while a statement runs (at the first
 * yield point after it elapsed). Other sessions' short queries then wait about this long per busy
 * session; an event-loop turn costs ~20 µs, so 2 ms slices cost ~1% of the work.
 */
export const sliceMs = 2;

/**
 * A sort gathers at most this many rows per run and sorts each run in one synchronous step (about
 * 4 ms for 4,096 rows with a closure comparator), then merges the runs with a heap.
 */
export const sortRunRows = 4096;

/** An IN list of at least this many constants is probed through a hash set built once. */
export const inListHashMin = 16;

// ---- program limits (PostgreSQL's SQLSTATEs 54xxx) ---------------------------------------------

/**
 * The parser bounds its recursion and the depth of the expression trees it builds with one counter
 * (parser.ts): a nested expression (parentheses, arguments) costs exprNestingCost, a nested
 * SELECT selectNestingCost, one link of an operator chain 1. Parsing one nesting level takes ~15
 * JavaScript frames and binding or evaluating one tree level a few, and the stack holds ~450
 * parenthesis levels before V8 has optimized the parser; 1000 units (250 parentheses, or a
 * 1000-term sum) keeps every stage at less than two thirds of the stack. Beyond: 54001.
 */
export const exprDepthMax = 1000;
export const exprNestingCost = 4;
export const selectNestingCost = 12;

/** PostgreSQL's MaxTupleAttributeNumber: a select list may have at most this many entries (54011). */
export const targetListEntriesMax = 1664;

/** PostgreSQL's FUNC_MAX_ARGS: a function call may pass at most this many arguments (54023). */
export const functionArgsMax = 100;

/**
 * Statements longer than this many characters are refused (54000). Parsing is one synchronous
 * step at ~15–40 MB/s here (token-dense text is slowest), so this bounds the event-loop stall of
 * the largest statement to well under a second; PostgreSQL's own bound is 1 GB.
 */
export const statementCharsMax = 16 * 1024 * 1024;

// ---- memory and spilling -----------------------------------------------------------------------

/** Spill files are written in chunks of this many bytes (one write call each). */
export const spillWriteBytes = 1024 * 1024;

/** Spill files are read back in chunks of this many bytes (one synchronous read each, ~0.1 ms). */
export const spillReadBytes = 256 * 1024;

/**
 * Hash aggregation re-partitions a spilled partition at most this many times (each pass splits by
 * a new hash into spillPartitions files); a partition still too big after that holds one huge
 * group, which cannot be split: 53200.
 */
export const spillDepthMax = 4;
export const spillPartitions = 16;

/** The node's SQL memory budget by default: this fraction of the V8 heap limit (CockroachDB's --max-sql-memory default is 25% of RAM; here the heap limit binds first). */
export const maxSqlMemoryHeapFraction = 0.5;

/**
 * A statement's budget (work_mem) by default: the node's budget divided by this, clamped to
 * [workMemMinBytes, workMemMaxBytes] — several heavy statements can run at once before the node's
 * budget refuses anyone.
 */
export const workMemShareOfNode = 8;
export const workMemMinBytes = 16 * 1024 * 1024;
export const workMemMaxBytes = 1024 * 1024 * 1024;

/** The lexer returns to the event loop after every this many characters (~2–5 ms of lexing). */
export const lexSliceChars = 128 * 1024;

/**
 * An IN list of at least this many literals of one kind is bound in bulk (straight into a hash
 * set, no expression per item); such lists do not drive index lookups (the scan probes the set).
 */
export const inListBulkMin = 10_000;

/** A VALUES list of at least this many rows of literals is bound row by row while it is scanned. */
export const valuesBulkMin = 1000;

/** ORDER BY … LIMIT n with n (+ offset) up to this many rows keeps a top-N heap instead of sorting everything. */
export const topNRowsMax = 10_000;

/** Result arrays longer than this are formatted as text this many elements at a time (~5 ms each). */
export const formatSliceElements = 65_536;

/** IN and VALUES lists of at least this many literal items (rows) are folded before parsing (bulk_lists.ts). */
export const bulkListItemsMin = 1000;

/** Folding long lists returns to the event loop after about this many tokens. */
export const lexSliceTokens = 65_536;

/**
 * Rows whose constraint checks (foreign keys, primary key and unique entries) are fetched from the
 * leaseholder in one batched request: enough to amortize a round trip, little enough to bound a
 * request and keep the statement responsive.
 */
export const checkChunkRows = 256;
/** Time zones kept parsed from the system tz database (types/tzfile.ts): a session uses one or two; the suite's and applications' zones fit many times over. */
export const tzFilesCachedMax = 256;

/**
 * Sequence values a node reserves from a sequence's replicated counter in one increment (its
 * cache, sequences.ts): the block starts at the minimum, doubles while refills come faster than
 * sequenceRefillFastMs apart and halves when they are further apart than sequenceRefillSlowMs.
 * A restarted node skips at most one block (plus the one being fetched).
 */
export const sequenceCacheValuesMin = 16;
export const sequenceCacheValuesMax = 65_536;
export const sequenceRefillFastMs = 1_000;
export const sequenceRefillSlowMs = 30_000;
/** Attempts at writing a missing counter (a sequence created before counters were written at CREATE). */
export const sequenceInitAttemptsMax = 5;

// ---- LISTEN / NOTIFY (notify.ts) -----------------------------------------------------------------

/**
 * PostgreSQL's NOTIFY_PAYLOAD_MAX_LENGTH (BLCKSZ − NAMEDATALEN − 128): a payload of this many
 * bytes or more is 22023 "payload string too long". Clients and ORMs are written against it.
 */
export const notifyPayloadBytesMax = 8000;

/** NAMEDATALEN − 1: channel names are identifiers of at most this many bytes. */
export const notifyChannelBytesMax = 63;

/**
 * Notifications waiting for one listening session (queued for it, or reserved by transactions now
 * committing), counted as channel + payload bytes + notifyEntryOverheadBytes. PostgreSQL has one
 * 8 GB queue on disk for the whole server; here each listener holds its own queue in memory, so
 * the bound is per listener: 1 MiB is ~130 notifications of the largest payload or ~10,000 small
 * ones, far more than a listener that keeps reading ever holds, and 1,000 stuck listeners cost at
 * most notifyNodeBytesMax. A transaction whose notifications do not fit in some listener's queue
 * fails at COMMIT with PostgreSQL's 54000 "too many notifications in the NOTIFY queue" (the
 * notifier, not the slow listener, gets the error, as in PostgreSQL).
 */
export const notifyQueueBytesMax = 1024 * 1024;

/** All listeners' queues on the node together (54000 past it, as above). */
export const notifyNodeBytesMax = 64 * 1024 * 1024;

/**
 * A transaction's own pending notifications (before COMMIT): more than a listener could ever
 * take is refused at the NOTIFY (54000) instead of holding them until a COMMIT that must fail.
 */
export const notifyPendingBytesMax = notifyQueueBytesMax;

/** Estimated bytes a queued notification costs besides its strings (object, array slot). */
export const notifyEntryOverheadBytes = 64;

/** PostgreSQL's QUEUE_FULL_WARN_INTERVAL: the "NOTIFY queue is n% full" warning at most this often. */
export const notifyQueueWarnIntervalMs = 5000;

/**
 * SQL-language functions (plan/sql_functions.ts): how deep bodies may nest when a call is bound
 * (each level is planned into the calling statement; a cycle is refused before this), and how
 * many rows one call may return — a call's rows are materialized before the calling operator
 * reads them, so an unbounded SETOF function would hold them all in memory (54000 past it).
 */
export const sqlFunctionNestingMax = 32;
export const sqlFunctionRowsMax = 1_000_000;
