// Against the real NameNode and DataNode found by test/setup/stack.ts (HDFS_URL).
import { createHash, randomUUID } from 'node:crypto';
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { HdfsClient, HdfsError, HdfsUnavailableError } from './hdfs.ts';

const hdfs = HdfsClient.fromConfig(loadConfig().hdfs);
const root = `/tmp/it-hdfs-adapter-${randomUUID()}`;

afterAll(async () => {
  await hdfs.delete(root, true);
});

const line = (i: number): string => `${i},neighborhood ${i},${i * 7}\n`;

function lines(count: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) yield line(i);
    })(),
  );
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('hdfs adapter against WebHDFS', () => {
  it('writes, renames and reads a file back', async () => {
    await hdfs.mkdirs(root);
    await hdfs.writeFile(`${root}/a.csv`, 'id,name\n1,Allentown\n');
    await hdfs.rename(`${root}/a.csv`, `${root}/b.csv`);
    expect(await hdfs.exists(`${root}/a.csv`)).toBe(false);
    expect(await hdfs.readText(`${root}/b.csv`)).toBe('id,name\n1,Allentown\n');
  });

  it('streams a multi-megabyte file both ways without changing a byte', async () => {
    const count = 200_000;
    const expected = createHash('sha256');
    let expectedBytes = 0;
    for (let i = 0; i < count; i++) {
      expected.update(line(i));
      expectedBytes += Buffer.byteLength(line(i));
    }
    await hdfs.writeFile(`${root}/big.csv`, lines(count));
    expect((await hdfs.stat(`${root}/big.csv`))?.length).toBe(expectedBytes);
    const actual = createHash('sha256');
    let chunks = 0;
    for await (const chunk of hdfs.readStream(`${root}/big.csv`)) {
      actual.update(chunk as Buffer);
      chunks++;
    }
    expect(actual.digest('hex')).toBe(expected.digest('hex'));
    // Streamed: the body arrived in many chunks, not as one buffered blob.
    expect(chunks).toBeGreaterThan(10);
  });

  it('atomic write replaces an existing file and leaves no temporary file', async () => {
    const target = `${root}/atomic/all_data_joined.csv`;
    await hdfs.writeAtomic(target, 'old\n');
    await hdfs.writeAtomic(target, Buffer.from('new\n'));
    expect(await hdfs.readText(target)).toBe('new\n');
    expect((await hdfs.list(`${root}/atomic`)).map((e) => e.name)).toEqual(['all_data_joined.csv']);
  });

  it('a failed atomic write keeps the old file and removes its temporary file', async () => {
    const target = `${root}/atomic-fail/out.csv`;
    await hdfs.writeAtomic(target, 'kept\n');
    const failing = new Readable({
      read() {
        this.push('partial row\n');
        this.destroy(new Error('source broke mid-stream'));
      },
    });
    await expect(hdfs.writeAtomic(target, failing)).rejects.toThrow('source broke mid-stream');
    expect(await hdfs.readText(target)).toBe('kept\n');
    expect((await hdfs.list(`${root}/atomic-fail`)).map((e) => e.name)).toEqual(['out.csv']);
  });

  it('rename without overwrite refuses an existing destination; with overwrite replaces it', async () => {
    await hdfs.writeFile(`${root}/r/src.csv`, 'src\n');
    await hdfs.writeFile(`${root}/r/dst.csv`, 'dst\n');
    await expect(hdfs.rename(`${root}/r/src.csv`, `${root}/r/dst.csv`)).rejects.toBeInstanceOf(HdfsError);
    await hdfs.rename(`${root}/r/src.csv`, `${root}/r/dst.csv`, { overwrite: true });
    expect(await hdfs.readText(`${root}/r/dst.csv`)).toBe('src\n');
  });

  it('lists a directory and reports missing files', async () => {
    await hdfs.writeFile(`${root}/l/x.csv`, 'x');
    await hdfs.mkdirs(`${root}/l/sub`);
    const entries = await hdfs.list(`${root}/l`);
    expect(entries.map((e) => [e.name, e.type, e.path])).toEqual([
      ['sub', 'DIRECTORY', `${root}/l/sub`],
      ['x.csv', 'FILE', `${root}/l/x.csv`],
    ]);
    expect(await hdfs.exists(`${root}/l/missing.csv`)).toBe(false);
    await expect(hdfs.readText(`${root}/l/missing.csv`)).rejects.toThrow(/^HDFS OPEN .*missing\.csv failed/);
  });

  it('deletes files and directories', async () => {
    await hdfs.writeFile(`${root}/d/x.csv`, 'x');
    await hdfs.delete(`${root}/d`, true);
    expect(await hdfs.exists(`${root}/d`)).toBe(false);
  });

  it('an unreachable NameNode gives one line naming it, for every operation', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const down = new HdfsClient({ url, user: 'hdfs' });
    const expected = `HDFS NameNode unreachable at ${url}: connect ECONNREFUSED`;
    for (const attempt of [
      () => down.ping(),
      () => down.writeFile('/x', 'y'),
      () => down.readText('/x'),
      () => down.rename('/x', '/y', { overwrite: true }),
    ]) {
      const error = await attempt().catch((err: unknown) => err);
      expect(error).toBeInstanceOf(HdfsUnavailableError);
      expect((error as Error).message).toBe(expected);
    }
  });
});
