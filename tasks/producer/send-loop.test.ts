import { describe, expect, it } from 'vitest';
import { sendLoop, type OutgoingMessage, type SendLoopContext, type SenderRow } from './send-loop.ts';

const rows: SenderRow[] = [1, 2, 3, 4, 5].map((id) => ({
  key: Buffer.from(String(id)),
  tail: `,"id":${id}`,
  partition: id % 2,
  rowNumber: id * 10,
}));

function context(overrides: Partial<SendLoopContext> = {}) {
  const batches: OutgoingMessage[][] = [];
  const acknowledged: number[] = [];
  const ctx: SendLoopContext = {
    loop: 2,
    date: '2026-11-28',
    batchSize: 2,
    eventId: (loop, row) => `e${loop}-${row.rowNumber}`,
    now: () => 'T',
    shouldStop: () => false,
    send: async (messages) => {
      batches.push(messages);
    },
    onSent: (count) => acknowledged.push(count),
    ...overrides,
  };
  return { ctx, batches, acknowledged };
}

describe('sendLoop', () => {
  it('sends every row once, in order, in batches of batchSize, each with its key, partition and the event id of its loop and row', async () => {
    const { ctx, batches, acknowledged } = context();
    expect(await sendLoop(rows, ctx)).toBe(5);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(acknowledged).toEqual([2, 2, 1]);
    const sent = batches.flat();
    expect(sent.map((m) => m.key.toString())).toEqual(['1', '2', '3', '4', '5']);
    expect(sent.map((m) => m.partition)).toEqual([1, 0, 1, 0, 1]);
    expect(sent.map((m) => JSON.parse(m.value))).toEqual(
      [1, 2, 3, 4, 5].map((id) => ({
        eventId: `e2-${id * 10}`,
        date: '2026-11-28',
        loop: 2,
        id,
        producedAt: 'T',
      })),
    );
  });

  it('waits for each batch to be acknowledged before building the next one', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { ctx } = context({
      send: async () => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
      },
    });
    await sendLoop(rows, ctx);
    expect(maxInFlight).toBe(1);
  });

  it('a stop ends the loop after the batch in flight', async () => {
    let stop = false;
    const { ctx, batches } = context({
      shouldStop: () => stop,
      send: async (messages) => {
        batches.push(messages);
        stop = true;
      },
    });
    expect(await sendLoop(rows, ctx)).toBe(2);
    expect(batches).toHaveLength(1);
  });

  it('a failed send rejects and counts nothing for that batch', async () => {
    const { ctx, acknowledged } = context({
      send: async () => {
        throw new Error('broker gone');
      },
    });
    await expect(sendLoop(rows, ctx)).rejects.toThrow('broker gone');
    expect(acknowledged).toEqual([]);
  });
});
