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
