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
 * yield point after it elapsed). Other sessions' short queries then wait at most about this long
 * per busy session; 5 ms keeps the cost of the extra event-loop turns below 1% of the work.
 */
export const sliceMs = 5;

/**
 * A sort gathers at most this many rows per run and sorts each run in one synchronous step (about
 * 4 ms for 4,096 rows with a closure comparator), then merges the runs with a heap.
 */
export const sortRunRows = 4096;

/** An IN list of at least this many constants is probed through a hash set built once. */
export const inListHashMin = 16;
