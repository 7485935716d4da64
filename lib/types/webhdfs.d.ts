// Types for the parts of the `webhdfs` package (1.2, untyped) that lib/hdfs.ts uses.
declare module 'webhdfs' {
  import type { EventEmitter } from 'node:events';

  export interface WebHdfsFileStatus {
    pathSuffix: string;
    type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
    length: number;
    modificationTime: number;
    accessTime: number;
    owner: string;
    group: string;
    permission: string;
    replication: number;
    blockSize: number;
  }

  /** A `request` library request: an old-style stream that emits data, error, finish, response. */
  export interface WebHdfsRequest extends EventEmitter {
    pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T;
    abort(): void;
    end(): void;
  }

  type Callback<T = void> = (err: Error | null | undefined, result?: T) => void;

  export interface WebHdfsClient {
    readdir(path: string, callback: Callback<WebHdfsFileStatus[]>): void;
    mkdir(path: string, mode: string | null, callback: Callback): void;
    stat(path: string, callback: Callback<WebHdfsFileStatus>): void;
    unlink(path: string, recursive: boolean, callback: Callback): void;
    createReadStream(path: string, opts?: Record<string, string | number | boolean>): WebHdfsRequest;
    createWriteStream(
      path: string,
      append: boolean,
      opts?: Record<string, string | number | boolean>,
    ): WebHdfsRequest;
  }

  export interface WebHdfsOptions {
    host: string;
    port: string | number;
    path: string;
    protocol?: string;
    user?: string;
  }

  /** Extra options of the `request` library merged into every call (e.g. timeout in ms). */
  export interface RequestParams {
    timeout?: number;
    [key: string]: unknown;
  }

  export function createClient(opts: Partial<WebHdfsOptions>, requestParams?: RequestParams): WebHdfsClient;

  const webhdfs: { createClient: typeof createClient };
  export default webhdfs;
}
