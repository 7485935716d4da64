// One loop of one sender: its rows in file order, cut into batches; each batch is acknowledged
// before the next one is sent. One request at a time per producer is what keeps the idempotent
// sequence, and so each key's order, intact across retries.
import { messageValue } from './message.ts';

/** A row as a sender sends it: key and JSON tail built once, reused by every loop. */
export interface SenderRow {
  key: Buffer | string;
  tail: string;
  partition: number;
  /** Position among all the rows sent (every sender's), the same in every loop and run. */
  rowNumber: number;
}

/** A sender's rows: an array, or a view that builds row i on demand (packed-rows.ts). */
export interface RowList {
  readonly length: number;
  at(i: number): SenderRow | undefined;
}

export interface OutgoingMessage {
  key: Buffer | string;
  value: string;
  partition: number;
}

export interface SendLoopContext {
  loop: number;
  date: string;
  batchSize: number;
  eventId: (loop: number, row: SenderRow) => string;
  /** `producedAt` of a batch. */
  now: () => string;
  /** Checked before each batch: a stop lets the batch in flight finish, then ends the loop. */
  shouldStop: () => boolean;
  send: (messages: OutgoingMessage[]) => Promise<void>;
  onSent: (count: number) => void;
}

/** Sends one loop of `rows`; resolves to the number of messages acknowledged. */
export async function sendLoop(rows: RowList, ctx: SendLoopContext): Promise<number> {
  let sent = 0;
  for (let start = 0; start < rows.length; start += ctx.batchSize) {
    if (ctx.shouldStop()) break;
    const end = Math.min(rows.length, start + ctx.batchSize);
    const producedAt = ctx.now();
    const messages = new Array<OutgoingMessage>(end - start);
    for (let i = start; i < end; i++) {
      const row = rows.at(i)!;
      messages[i - start] = {
        key: row.key,
        value: messageValue(row, ctx.eventId(ctx.loop, row), ctx.date, ctx.loop, producedAt),
        partition: row.partition,
      };
    }
    await ctx.send(messages);
    sent += messages.length;
    ctx.onSent(messages.length);
  }
  return sent;
}
