// Integration: the producer CLI against the real Kafka (and HDFS for --hdfs-file).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { HdfsClient } from '../../lib/hdfs.ts';
import { createKafka } from '../../lib/kafka.ts';
import { readTopic } from '../../test/fixtures/read-topic.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const DATE = '2026-11-28';
const HEADER = 'Neighborhood,Id,Estimate; Total,Margin of Error; Total';

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'producer-int-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function start(args: string[], env: Record<string, string>) {
  const child = spawn(TSX, [path.join(ROOT, 'tasks/producer/cli.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, PUSHGATEWAY_URL: '', LOG_LEVEL: 'info', RUN_DATE: DATE, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

async function readAll(topic: string): Promise<{ key: string; value: Record<string, unknown> }[]> {
  return (await readTopic(createKafka(loadConfig().kafka), topic)).map((m) => ({
    key: m.key as string,
    value: JSON.parse(m.value) as Record<string, unknown>,
  }));
}

function topicEnv() {
  const topic = `t_producer_${randomBytes(4).toString('hex')}`;
  return { topic, env: { KAFKA_TOPIC: topic } };
}

describe('producer against the real Kafka', () => {
  it('sends each clean row once per loop, keyed by Id, with unique event ids; rejects are counted, not sent', async () => {
    const file = path.join(work, 'pop.csv');
    fs.writeFileSync(file, `${HEADER}\nA,1,10,1.5\nB,2,-,**\nbad,x,1,1\nC,3,2558.0,449.77\nA again,1,5,5\n`);
    const { topic, env } = topicEnv();
    const r = await start(['--file', file, '--loops', '2'], env).done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ produced: 6, rejects: 2, loops: 2 });
    expect(r.stderr).toMatch(/Id not an integer/);
    expect(r.stderr).toMatch(/duplicate Id 1/);
    const messages = await readAll(topic);
    expect(messages).toHaveLength(6);
    expect(new Set(messages.map((m) => m.value.eventId)).size).toBe(6);
    for (const m of messages) expect(m.key).toBe(String(m.value.id));
    const row2 = messages.find((m) => m.value.id === 2 && m.value.loop === 2)!.value;
    expect(row2).toMatchObject({
      date: DATE,
      neighborhood: 'B',
      population_estimate_total: null,
      population_margin_of_error_total: null,
    });
    expect(messages.filter((m) => m.value.loop === 1)).toHaveLength(3);
  });

  it("several senders keep each Id's loops in order", async () => {
    const file = path.join(work, 'pop-order.csv');
    const ids = Array.from({ length: 300 }, (_, i) => i + 1);
    fs.writeFileSync(file, `${HEADER}\n${ids.map((id) => `N${id},${id},${id},1`).join('\n')}\n`);
    const { topic, env } = topicEnv();
    const r = await start(['--file', file, '--loops', '3', '--workers', '3', '--batch-size', '7'], env).done;
    expect(r.code, r.stderr).toBe(0);
    // readAll sees each partition in offset order: per Id, the loops must read 1, 2, 3.
    const loopsById = new Map<unknown, unknown[]>();
    for (const m of await readAll(topic))
      loopsById.set(m.value.id, [...(loopsById.get(m.value.id) ?? []), m.value.loop]);
    expect(loopsById.size).toBe(ids.length);
    for (const loops of loopsById.values()) expect(loops).toEqual([1, 2, 3]);
  });

  it('a re-run of the same date and rows sends the same event ids (whatever the senders); a changed row gets new ones', async () => {
    const file = path.join(work, 'pop-rerun.csv');
    fs.writeFileSync(file, `${HEADER}\nA,1,10,1\nB,2,20,2\nC,3,30,3\n`);
    const { topic, env } = topicEnv();
    const first = await start(['--file', file, '--loops', '2', '--workers', '1'], env).done;
    expect(first.code, first.stderr).toBe(0);
    const second = await start(['--file', file, '--loops', '2', '--workers', '3'], env).done;
    expect(second.code, second.stderr).toBe(0);
    const idsOf = (ms: { value: Record<string, unknown> }[]) =>
      new Map(ms.map((m) => [`${m.value.loop}:${m.value.id}`, new Set<unknown>()]));
    const messages = await readAll(topic);
    expect(messages).toHaveLength(12);
    const byRow = idsOf(messages);
    for (const m of messages) byRow.get(`${m.value.loop}:${m.value.id}`)!.add(m.value.eventId);
    // 6 (loop, Id) rows, each sent twice under one id.
    expect(byRow.size).toBe(6);
    for (const ids of byRow.values()) expect(ids.size).toBe(1);

    fs.writeFileSync(file, `${HEADER}\nA,1,10,1\nB,2,21,2\nC,3,30,3\n`);
    const third = await start(['--file', file, '--loops', '2'], env).done;
    expect(third.code, third.stderr).toBe(0);
    const all = await readAll(topic);
    expect(new Set(all.map((m) => m.value.eventId)).size).toBe(12);
  });

  it('--follow resends every interval until SIGTERM, then flushes and exits 0', async () => {
    const file = path.join(work, 'pop-follow.csv');
    fs.writeFileSync(file, `${HEADER}\nA,1,10,1\nB,2,20,2\n`);
    const { topic, env } = topicEnv();
    const p = start(['--file', file, '--follow', '--interval', '500ms'], env);
    // Wait until at least three loops were sent, then stop it.
    const deadline = Date.now() + 60_000;
    while ((p.stderr().match(/loop sent/g) ?? []).length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.stoppedBySignal).toBe(true);
    expect(summary.loops).toBeGreaterThanOrEqual(3);
    const messages = await readAll(topic);
    // Everything reported as produced was acknowledged and is in the topic.
    expect(messages).toHaveLength(summary.produced);
    expect(new Set(messages.map((m) => m.value.loop)).size).toBeGreaterThanOrEqual(3);
  });

  it('--follow re-reads its HDFS source at each loop: an edit shows up in the next loop', async () => {
    const hdfs = HdfsClient.fromConfig(loadConfig().hdfs);
    const hdfsPath = `/tmp/producer-int-${randomBytes(4).toString('hex')}/total-population.csv`;
    // One row: at most one of the three senders has rows at start; the edit brings rows to the others.
    await hdfs.writeAtomic(hdfsPath, `${HEADER}\nA,1,10,1\n`);
    const { topic, env } = topicEnv();
    const p = start(['--hdfs-file', hdfsPath, '--follow', '--interval', '500ms'], env);
    const loops = () => (p.stderr().match(/loop sent/g) ?? []).length;
    const waitFor = async (ok: () => boolean) => {
      const deadline = Date.now() + 60_000;
      while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    };
    await waitFor(() => loops() >= 2);
    // A's population changes, B to E appear.
    await hdfs.writeAtomic(hdfsPath, `${HEADER}\nA,1,15,1\nB,2,25,2\nC,3,30,3\nD,4,40,4\nE,5,50,5\n`);
    await waitFor(() => /source changed/.test(p.stderr()));
    const changedAt = loops();
    await waitFor(() => loops() >= changedAt + 2);
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const messages = await readAll(topic);
    expect(messages).toHaveLength(JSON.parse(r.stdout).produced);
    const byLoop = new Map<number, Record<string, unknown>[]>();
    for (const m of messages)
      byLoop.set(m.value.loop as number, [...(byLoop.get(m.value.loop as number) ?? []), m.value]);
    const last = Math.max(...byLoop.keys());
    const pop = (loop: number) =>
      Object.fromEntries((byLoop.get(loop) ?? []).map((v) => [v.id, v.population_estimate_total]));
    expect(pop(Math.min(...byLoop.keys()))).toEqual({ 1: 10 });
    expect(pop(last)).toEqual({ 1: 15, 2: 25, 3: 30, 4: 40, 5: 50 });
    await hdfs.delete(path.posix.dirname(hdfsPath), true);
  });

  it('reads the file from HDFS with --hdfs-file', async () => {
    const config = loadConfig();
    const hdfs = HdfsClient.fromConfig(config.hdfs);
    const hdfsPath = `/tmp/producer-int-${randomBytes(4).toString('hex')}/total-population.csv`;
    await hdfs.writeFile(hdfsPath, `${HEADER}\nA,1,10,1\nB,2,20,2\nC,3,30,3\n`);
    const { topic, env } = topicEnv();
    const r = await start(['--hdfs-file', hdfsPath], env).done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ produced: 3, source: hdfsPath });
    expect((await readAll(topic)).map((m) => m.value.id).sort()).toEqual([1, 2, 3]);
    await hdfs.delete(path.posix.dirname(hdfsPath), true);
  });

  it('a missing input file is a one-line error and exit 1', async () => {
    const { env } = topicEnv();
    const r = await start(['--file', path.join(work, 'nope.csv')], env).done;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/input file not found: .*nope\.csv/)]);
  });
});
