// --max-memory: how the consumer's process tree shares its memory budget. Each worker process holds
// one Kafka fetch decoded (bounded by --max-bytes-per-partition), its SQLite page cache and V8's
// heap; the heap would otherwise grow far past what is live (V8 lets the old generation reach a few
// times the live size before collecting), so forked workers get a heap cap (--max-old-space-size)
// and the SQLite cache is sized from their share. A worker that outgrows its cap dies; the run then
// fails non-zero and the next one resumes from the offsets stored in SQLite (nothing lost or doubled).

/** Resident memory of a --workers parent: Node, tsx, kafkajs, and the joined-attributes load. */
export const PARENT_SHARE_MB = 150;
/** SQLite cache of the connection that loads the joined attributes (an append: few pages needed). */
export const LOADER_CACHE_MB = 8;

/** V8 semi-space of a forked worker (see ConsumerMemoryPlan.semiSpaceMb). */
const SEMI_SPACE_MB = 16;

export interface ConsumerMemoryPlan {
  /** SQLite page cache of each consuming process, MB. */
  cacheMb: number;
  /** V8 old-generation cap of each forked worker, MB (undefined: one process, not capped). */
  heapMb: number | undefined;
  /**
   * V8 semi-space of each forked worker, MB: 16, so that a batch's messages die young (with 4 MB
   * they were promoted, and old-generation collections took a fifth of a worker's time; with 9 MB,
   * 3 workers at 5M messages took 74 s instead of 53).
   */
  semiSpaceMb: number | undefined;
}

/**
 * Splits `maxMemoryMb` (the whole process tree) among `workers` consuming processes (and their
 * parent when there are several): each gets an equal share, of which 1/8 is SQLite cache (at most
 * 64 MB, SQLite's size before) and half is V8 heap; the rest is code, young generation and I/O.
 */
export function consumerMemoryPlan(maxMemoryMb: number, workers: number): ConsumerMemoryPlan {
  const forked = workers > 1;
  const share = (maxMemoryMb - (forked ? PARENT_SHARE_MB : 0)) / workers;
  if (share < 128) {
    throw new Error(
      `--max-memory ${maxMemoryMb} MB leaves ${Math.floor(share)} MB per consumer process (${workers} workers${forked ? ` and a ${PARENT_SHARE_MB} MB parent` : ''}); at least 128 MB each is needed`,
    );
  }
  return {
    cacheMb: Math.min(64, Math.round(share / 8)),
    heapMb: forked ? Math.round(share / 2) : undefined,
    semiSpaceMb: forked ? SEMI_SPACE_MB : undefined,
  };
}
