/** Bounds of the KV layer, with units. */

/**
 * lmdb's key size limit is 1978 bytes; an MVCC key adds an 8-byte timestamp. Keys are refused
 * above this with a clear error instead of failing inside the engine.
 */
export const keyBytesMax = 1900;

/** Values above this are refused (SQLSTATE 54000): one row must stay far below a Raft message. */
export const valueBytesMax = 16 * 1024 * 1024;

/** A transaction may buffer at most this many bytes of writes before committing. */
export const txnWriteBufferBytesMax = 256 * 1024 * 1024;

/** A transaction's read set may hold at most this many point keys before it is refused. */
export const txnReadSetKeysMax = 1_000_000;
/**
 * A transaction whose buffered writes exceed this writes them ahead as intents (at its next
 * statement boundary or row batch), so its memory stays bounded while it writes more.
 */
export const txnFlushBytes = 8 * 1024 * 1024;
/** Keys a transaction may have written ahead as intents (their list travels in its commit). */
export const txnIntentKeyBytesMax = 64 * 1024 * 1024;
/** A transaction that wrote intents tells their range it is alive this often. */
export const txnHeartbeatIntervalMs = 1000;
