// WebHDFS adapter on the `webhdfs` package: streaming reads and writes (the package pipes through the
// NameNode's 307 redirect to the DataNode, so no file is held in memory), atomic writes (temp file,
// then rename over the destination), and one-line errors naming the NameNode or DataNode address.
import { randomBytes } from 'node:crypto';
import path from 'node:path/posix';
import { PassThrough, Readable, Transform } from 'node:stream';
import webhdfs, { type WebHdfsClient, type WebHdfsFileStatus } from 'webhdfs';
import type { Config } from './config.ts';

export class HdfsUnavailableError extends Error {
  override name = 'HdfsUnavailableError';
  constructor(
    readonly service: 'NameNode' | 'DataNode',
    readonly address: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`HDFS ${service} unreachable at ${address}: ${reason}`, options);
  }
}

/** HDFS answered, but refused the operation (missing file, not a directory, ...). */
export class HdfsError extends Error {
  override name = 'HdfsError';
  constructor(
    readonly op: string,
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`HDFS ${op} ${path} failed: ${reason}`, options);
  }
}

export interface HdfsEntry {
  name: string;
  path: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
  modificationTime: number;
}

export type HdfsBody = Readable | string | Buffer;

export interface HdfsClientOptions {
  /** WebHDFS base of the NameNode, e.g. http://127.0.0.1:9870 */
  url: string;
  /** user.name of every call (simple auth). */
  user: string;
  /** Socket idle timeout of a call; a reachable NameNode answers in milliseconds. */
  timeoutMs?: number;
}

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
]);

interface SocketErrorLike {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  connect?: unknown;
}

/**
 * The one-line error for a failed call (pure): a socket failure becomes an HdfsUnavailableError that
 * names the NameNode, or the DataNode when the failed socket was not the NameNode's; a remote
 * exception becomes an HdfsError with the operation and path; anything else is returned unchanged.
 */
export function toHdfsError(err: unknown, nameNodeUrl: string, op: string, hdfsPath: string): Error {
  if (err instanceof HdfsUnavailableError || err instanceof HdfsError) return err;
  const e = (err ?? {}) as SocketErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  if (SOCKET_CODES.has(code)) {
    const nn = new URL(nameNodeUrl);
    const nnPort = nn.port || (nn.protocol === 'https:' ? '443' : '80');
    const address = typeof e.address === 'string' ? e.address : undefined;
    const port = e.port === undefined ? undefined : String(e.port);
    const isDataNode = address !== undefined && port !== undefined && port !== nnPort;
    const reason =
      code === 'ESOCKETTIMEDOUT' || (code === 'ETIMEDOUT' && e.connect !== true)
        ? 'read timeout'
        : `${typeof e.syscall === 'string' ? e.syscall : 'connect'} ${code}`;
    return isDataNode
      ? new HdfsUnavailableError('DataNode', `${address}:${port}`, reason, { cause: err })
      : new HdfsUnavailableError('NameNode', nameNodeUrl, reason, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new HdfsError(op, hdfsPath, message.split('\n')[0] ?? message, { cause: err });
}

/** Throws unless the path is an absolute, normalised HDFS path (pure). */
export function assertHdfsPath(p: string): string {
  if (!p.startsWith('/') || path.normalize(p) !== p || p.includes('\0')) {
    throw new Error(`HDFS path must be absolute and normalised, got "${p}"`);
  }
  return p;
}

/** The hidden temporary sibling an atomic write goes through: `<dir>/.<name>.tmp-<random>` (pure). */
export function tempPathFor(destination: string, random = randomBytes(6).toString('hex')): string {
  return path.join(path.dirname(destination), `.${path.basename(destination)}.tmp-${random}`);
}

function isFileNotFound(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  // The package keeps only RemoteException.message; HDFS words a missing path this way.
  return /File does not exist|FileNotFoundException/.test(message);
}

/**
 * Joins small chunks into blocks of about `blockBytes`. A CSV writer emits one chunk per row, and the
 * upload path (request library, chunked HTTP) costs per chunk: 200k rows of 33 bytes took 3.5 s
 * unbatched on this machine.
 */
export function coalesce(blockBytes = 256 * 1024): Transform {
  let pending: Buffer[] = [];
  let size = 0;
  return new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      pending.push(buf);
      size += buf.length;
      if (size >= blockBytes) {
        this.push(pending.length === 1 ? buf : Buffer.concat(pending, size));
        pending = [];
        size = 0;
      }
      done();
    },
    flush(done) {
      if (size > 0) this.push(Buffer.concat(pending, size));
      done();
    },
  });
}

function toReadable(body: HdfsBody): Readable {
  return typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
}

export class HdfsClient {
  readonly url: string;
  readonly user: string;
  private readonly timeoutMs: number;
  private readonly client: WebHdfsClient;

  constructor(options: HdfsClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.user = options.user;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const base = new URL(this.url);
    this.client = webhdfs.createClient(
      {
        protocol: base.protocol.replace(/:$/, ''),
        host: base.hostname,
        port: base.port || (base.protocol === 'https:' ? 443 : 80),
        path: '/webhdfs/v1',
        user: this.user,
      },
      { timeout: this.timeoutMs },
    );
  }

  static fromConfig(config: Config['hdfs'], timeoutMs?: number): HdfsClient {
    return new HdfsClient({ url: config.url, user: config.user, timeoutMs });
  }

  /** Resolves when the NameNode answers WebHDFS; throws HdfsUnavailableError otherwise. */
  async ping(): Promise<void> {
    await this.call<WebHdfsFileStatus>('GETFILESTATUS', '/', (cb) => this.client.stat('/', cb));
  }

  async mkdirs(dir: string): Promise<void> {
    await this.call('MKDIRS', dir, (cb) => this.client.mkdir(assertHdfsPath(dir), null, cb));
  }

  async stat(p: string): Promise<HdfsEntry | undefined> {
    try {
      const status = await this.call<WebHdfsFileStatus>('GETFILESTATUS', p, (cb) =>
        this.client.stat(assertHdfsPath(p), cb),
      );
      return status && toEntry(path.dirname(p), { ...status, pathSuffix: path.basename(p) });
    } catch (err) {
      if (err instanceof HdfsError && isFileNotFound(err)) return undefined;
      throw err;
    }
  }

  async exists(p: string): Promise<boolean> {
    return (await this.stat(p)) !== undefined;
  }

  /** The entries of a directory (a file lists as itself), sorted by name. */
  async list(dir: string): Promise<HdfsEntry[]> {
    const statuses = await this.call<WebHdfsFileStatus[]>('LISTSTATUS', dir, (cb) =>
      this.client.readdir(assertHdfsPath(dir), cb),
    );
    return (statuses ?? [])
      .map((s) => toEntry(dir, s))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Streams a file's bytes; errors (missing file, unreachable node) surface on the stream. */
  readStream(p: string): Readable {
    const out = new PassThrough();
    const req = this.client.createReadStream(assertHdfsPath(p));
    // The request emits errors (socket, or parsed RemoteException) on itself: forward them, mapped.
    req.on('error', (err: unknown) => {
      out.destroy(toHdfsError(err, this.url, 'OPEN', p));
    });
    out.on('close', () => {
      // A consumer that stops early (destroy) must not leave the DataNode connection open.
      if (!out.readableEnded) req.abort();
    });
    req.pipe(out);
    return out;
  }

  async readText(p: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.readStream(p)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Creates or overwrites a file, streaming the body to the DataNode. */
  async writeFile(p: string, body: HdfsBody): Promise<void> {
    assertHdfsPath(p);
    const source = toReadable(body);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        remote.abort();
        if (!source.destroyed) source.destroy();
        reject(err);
      };
      const remote = this.client.createWriteStream(p, false, { overwrite: true });
      // `on`, not `once`: the request library and the package may both emit the same failure.
      remote.on('error', (err: unknown) => fail(toHdfsError(err, this.url, 'CREATE', p)));
      remote.on('finish', () => {
        if (settled) return;
        settled = true;
        resolve();
      });
      const blocks = coalesce();
      source.on('error', (err: unknown) => fail(err));
      blocks.on('error', (err: unknown) => fail(err));
      source.pipe(blocks).pipe(remote as unknown as NodeJS.WritableStream);
    });
  }

  /**
   * Writes to a hidden temporary sibling, then renames it over the destination: a reader sees the
   * old file or the whole new one, never a part. The temporary file is removed if anything fails.
   */
  async writeAtomic(p: string, body: HdfsBody): Promise<void> {
    const temp = tempPathFor(assertHdfsPath(p));
    try {
      await this.writeFile(temp, body);
      await this.rename(temp, p, { overwrite: true });
    } catch (err) {
      await this.delete(temp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Renames atomically in the NameNode. Raw fetch here: the package's rename() can neither pass
   * `renameoptions=OVERWRITE` (replace an existing destination) nor see the `{"boolean": false}`
   * by which HDFS reports a plain rename that did not happen.
   */
  async rename(from: string, to: string, options: { overwrite?: boolean } = {}): Promise<void> {
    const params = new URLSearchParams({
      op: 'RENAME',
      destination: assertHdfsPath(to),
      'user.name': this.user,
    });
    if (options.overwrite) params.set('renameoptions', 'OVERWRITE');
    const url = `${this.url}/webhdfs/v1${encodeURI(assertHdfsPath(from))}?${params}`;
    let res: Response;
    try {
      res = await fetch(url, { method: 'PUT', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw toHdfsError(fetchCause(err), this.url, 'RENAME', from);
    }
    const text = await res.text();
    if (!res.ok) throw new HdfsError('RENAME', from, remoteMessage(text) ?? `HTTP ${res.status}`);
    // With renameoptions the NameNode answers an empty 200; without, {"boolean": true|false}.
    if (!options.overwrite && !/"boolean"\s*:\s*true/.test(text)) {
      throw new HdfsError('RENAME', from, `not renamed to ${to} (destination exists or parent missing)`);
    }
  }

  /** Deletes a file or directory; a missing path is not an error. */
  async delete(p: string, recursive = false): Promise<void> {
    await this.call('DELETE', p, (cb) => this.client.unlink(assertHdfsPath(p), recursive, cb));
  }

  private call<T = void>(
    op: string,
    p: string,
    invoke: (cb: (err: Error | null | undefined, result?: T) => void) => void,
  ): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      try {
        invoke((err, result) => (err ? reject(toHdfsError(err, this.url, op, p)) : resolve(result)));
      } catch (err) {
        reject(err);
      }
    });
  }
}

function toEntry(dir: string, s: WebHdfsFileStatus): HdfsEntry {
  return {
    name: s.pathSuffix,
    path: s.pathSuffix ? path.join(dir, s.pathSuffix) : dir,
    type: s.type,
    length: s.length,
    modificationTime: s.modificationTime,
  };
}

/** undici wraps socket errors: `fetch failed` with the real one (code, address) as cause. */
function fetchCause(err: unknown): unknown {
  if (err instanceof Error && err.name === 'TimeoutError') return { code: 'ESOCKETTIMEDOUT' };
  return err instanceof Error && err.cause ? err.cause : err;
}

function remoteMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { RemoteException?: { message?: string } };
    return parsed.RemoteException?.message;
  } catch {
    return undefined;
  }
}
