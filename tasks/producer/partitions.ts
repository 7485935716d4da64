// Which partition each row goes to, and which sender owns it. A key's partition is the one Kafka's
// own default partitioner picks (murmur2 of the key bytes, as in Java and in kafkajs), computed
// once per row; a sender then owns whole partitions, so each key's messages still leave from one
// producer, in order.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) with 32-bit integer arithmetic:
 * the same values as kafkajs' version, which emulates it with 64-bit Longs about 10 times slower.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[whole + 2]! << 16;
    if (rest >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h;
}

/** The partition of a key in a topic of `partitions` partitions: toPositive(murmur2) mod count. */
export function keyPartitioner(partitions: number): (key: string) => number {
  return (key) => (murmur2(Buffer.from(key)) & 0x7fffffff) % partitions;
}

/** The sender of a partition among `senders` (partition p goes to sender p mod senders): one each. */
export function senderOf(partition: number, senders: number): number {
  return partition % senders;
}
