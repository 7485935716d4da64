// Reading back what a chaos run left: the events of a topic (what was really produced), the events
// SQLite holds, and the hash of an HDFS file.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { HdfsClient } from '../../lib/hdfs.ts';

export interface EventKey {
  eventId: string;
  loop: number;
  id: number;
  partition: number;
  offset: number;
}

/** Every message of a topic, from the beginning up to the end offsets seen now. */
export async function readTopicEvents(
  kafka: Kafka,
  topic: string,
  groupId: string,
  timeoutMs = 120_000,
): Promise<EventKey[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  const events: EventKey[] = [];
  if (total === 0) return events;
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Set<number>([...ends].filter(([, high]) => high === 0).map(([p]) => p));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`reading ${topic} timed out with ${events.length}/${total} messages`)),
      timeoutMs,
    );
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const high = ends.get(batch.partition) ?? 0;
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            if (offset >= high) break;
            const v = JSON.parse(m.value?.toString() ?? '{}') as {
              eventId: string;
              loop: number;
              id: number;
            };
            events.push({ eventId: v.eventId, loop: v.loop, id: v.id, partition: batch.partition, offset });
            if (offset === high - 1) done.add(batch.partition);
          }
          if (done.size === ends.size) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return events;
}

/** Messages of a topic the broker has acknowledged so far (sum of its end offsets; acks=all). */
export async function acknowledged(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, o) => sum + Number(o.high), 0);
}

/** The events of a date stored in base_de_donnees.db, plus its dead letters count. */
export function storedEvents(dbFile: string, date: string): { events: EventKey[]; deadLetters: number } {
  const db = new Database(dbFile, { readonly: true });
  try {
    const events = db
      .prepare(
        `SELECT event_id AS eventId, loop, id, kafka_partition AS partition, kafka_offset AS offset FROM events WHERE date = ?`,
      )
      .all(date) as EventKey[];
    const deadLetters = db.prepare('SELECT count(*) FROM dead_letters').pluck().get() as number;
    return { events, deadLetters };
  } finally {
    db.close();
  }
}

/** sha256 of an HDFS file, or undefined when it does not exist. */
export async function hdfsHash(hdfs: HdfsClient, path: string): Promise<string | undefined> {
  if (!(await hdfs.exists(path))) return undefined;
  const hash = createHash('sha256');
  for await (const chunk of hdfs.readStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
