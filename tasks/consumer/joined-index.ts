// The joined attributes of each date as the consumer sees them: which Ids a date has, loaded once per
// run from HDFS into SQLite (or reused from SQLite when the same file version is already there).
import type { Logger } from '../../lib/log.ts';
import type { JoinedSource } from './joined-source.ts';
import type { EventStore } from './store.ts';

/** Opens a date's joined rows, or null when it has no file (see joined-source.ts). */
export type OpenJoined = (date: string) => Promise<JoinedSource | null>;

/** How long a missing joined file (or a fallback to the latest one) is kept before asking HDFS again. */
const MISSING_JOINED_RETRY_MS = 60_000;

/** Source recorded in joined_loads for a date enriched from the latest joined file. */
const FALLBACK_PREFIX = 'latest:';

/**
 * Joined-attribute cache: the Ids of each date, loaded once per run from HDFS (or SQLite). With
 * `fallback` (follow mode), a date without a joined file of its own is enriched from the latest
 * joined file (the attributes are annual estimates), stored under that date, and its own file is
 * looked for again every MISSING_JOINED_RETRY_MS.
 */
export class JoinedIndex {
  private readonly ids = new Map<string, ReadonlySet<number>>();
  private readonly missingSince = new Map<string, number>();
  private readonly fallbackSince = new Map<string, number>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly store: EventStore,
    private readonly openJoined: OpenJoined,
    private readonly log: Logger,
    private readonly openLatest?: () => ReturnType<OpenJoined>,
  ) {}

  lookup = (date: string): ReadonlySet<number> | undefined => this.ids.get(date);

  /** The date's attributes come from the latest joined file (no file of its own yet). */
  isFallback = (date: string): boolean => this.fallbackSince.has(date);

  get hasFallbacks(): boolean {
    return this.fallbackSince.size > 0;
  }

  has(date: string): boolean {
    const fallback = this.fallbackSince.get(date);
    if (fallback !== undefined) return Date.now() - fallback < MISSING_JOINED_RETRY_MS;
    if (this.ids.has(date)) return true;
    const since = this.missingSince.get(date);
    return since !== undefined && Date.now() - since < MISSING_JOINED_RETRY_MS;
  }

  /** Loads a date's joined rows from HDFS into SQLite (replacing that date), once per run. */
  async ensure(date: string, forceReload = false): Promise<void> {
    if (!forceReload && this.has(date)) return;
    let p = this.loading.get(date);
    if (!p) {
      p = this.load(date, forceReload).finally(() => this.loading.delete(date));
      this.loading.set(date, p);
    }
    await p;
  }

  private useStored(date: string): void {
    this.ids.set(date, this.store.joinedIds(date));
    this.missingSince.delete(date);
    if (this.store.joinedSource(date)?.startsWith(FALLBACK_PREFIX)) this.fallbackSince.set(date, Date.now());
    else this.fallbackSince.delete(date);
  }

  private async load(date: string, forceReload: boolean): Promise<void> {
    const stored = this.store.joinedSource(date);
    // Another run (or a --workers parent) already loaded this date from its own file: reuse it
    // unless told to reload. A fallback load is re-checked: the date's own file may exist now.
    if (!forceReload && stored !== undefined && !stored.startsWith(FALLBACK_PREFIX)) {
      this.useStored(date);
      return;
    }
    const started = Date.now();
    let opened = await this.openJoined(date);
    let source = opened?.source;
    if (opened === null && this.openLatest) {
      opened = await this.openLatest();
      source = opened ? `${FALLBACK_PREFIX}${opened.source}` : undefined;
      if (opened && stored !== source) {
        this.log.warn(
          { date, source: opened.source },
          'no all_data_joined for this date: enriching its messages from the latest joined file',
        );
      }
    }
    if (opened === null || source === undefined) {
      if (stored !== undefined) {
        this.useStored(date);
        return;
      }
      this.log.warn({ date }, 'no all_data_joined for this date: its messages go to the dead-letter topic');
      this.missingSince.set(date, Date.now());
      return;
    }
    if (stored === source) {
      // Same file, same version as the last load: the rows in SQLite are already these.
      this.useStored(date);
      this.log.info({ date, source }, 'joined attributes unchanged since the last load');
      return;
    }
    const rows = await this.store.loadJoinedAttributes(date, opened.batches, source);
    this.useStored(date);
    this.log.info({ date, rows, source, ms: Date.now() - started }, 'joined attributes loaded');
  }
}
