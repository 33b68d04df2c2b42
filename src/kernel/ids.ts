import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids, drawn from the CSPRNG 256 ids at a time: every HTTP request gets an id, and one
 * CSPRNG call per id costs more than the rest of making it (Node's `randomUUID` pools the same way).
 */
const POOLED_IDS = 256;
const pool = Buffer.alloc(16 * POOLED_IDS);
let nextInPool = POOLED_IDS;

/**
 * Time-ordered identifiers (UUID version 7): sortable by creation, so B-tree inserts stay local and
 * "newest first" needs no extra column.
 */
export function uuidv7(now: number = Date.now()): string {
  if (nextInPool === POOLED_IDS) {
    randomFillSync(pool);
    nextInPool = 0;
  }
  // Each slice of the pool is used once: overwritten here, then only by the next refill.
  const b = pool.subarray(nextInPool * 16, nextInPool * 16 + 16);
  nextInPool += 1;
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A prefixed id that says what it names in logs and URLs, e.g. `src_0190…`. */
export function newId(prefix: string): string {
  return `${prefix}_${uuidv7().replaceAll('-', '')}`;
}
