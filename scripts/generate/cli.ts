// `npm run generate -- --rows N --out DIR [--seed S] [--dirty F]`: writes the four census sources
// with their published headers, deterministic for a seed. See README "Generating data".
import { Command, InvalidArgumentError, Option } from 'commander';
import { SOURCE_NAMES, type SourceName } from '../../lib/sources.ts';
import { generateFiles, MAX_ROWS, readKnownRows } from './generate.ts';
import { createProgress } from './progress.ts';

function parseRows(value: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1 || n > MAX_ROWS) {
    throw new InvalidArgumentError(`must be an integer from 1 to ${MAX_ROWS}`);
  }
  return n;
}

function parseFraction(value: string): number {
  const f = Number(value);
  if (value.trim() === '' || !(f >= 0 && f <= 1))
    throw new InvalidArgumentError('must be a number from 0 to 1');
  return f;
}

function parseSources(value: string): SourceName[] {
  const names = value.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(SOURCE_NAMES as string[]).includes(name)) {
      throw new InvalidArgumentError(`unknown source "${name}" (one of ${SOURCE_NAMES.join(', ')})`);
    }
  }
  return names as SourceName[];
}

const program = new Command()
  .name('generate')
  .description('Write the four census source CSVs (published headers), seeded and optionally dirty.')
  .option('--rows <n>', `rows per file, Ids 1..n (1 to ${MAX_ROWS})`, parseRows, 91)
  .requiredOption('--out <dir>', 'output directory (created if missing)')
  .option('--seed <seed>', 'seed (any string); the same seed gives the same files', '1')
  .option(
    '--dirty <fraction>',
    'fraction of cells and line endings made dirty (ACS markers, blanks, whitespace, separators, 1234.0, CRLF)',
    parseFraction,
    0,
  )
  .addOption(
    new Option('--sources <list>', `comma-separated sources to write (${SOURCE_NAMES.join(',')})`)
      .argParser(parseSources)
      .default(SOURCE_NAMES, 'all four'),
  )
  .option(
    '--ids-from <csv>',
    'take Ids, neighborhood names and populations from a total-population CSV (overrides --rows)',
  )
  .addOption(
    new Option('--line-ending <eol>', 'line terminator of clean lines').choices(['lf', 'crlf']).default('lf'),
  )
  .option(
    '--workers <n>',
    'worker threads rendering rows (default: one per core, none below 50,000 rows)',
    (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 16)
        throw new InvalidArgumentError('must be an integer from 0 to 16');
      return n;
    },
  )
  .option('--quiet', 'no progress output')
  .showHelpAfterError('(generate --help for usage)');

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{
    rows: number;
    out: string;
    seed: string;
    dirty: number;
    sources: SourceName[];
    idsFrom?: string;
    lineEnding: 'lf' | 'crlf';
    quiet?: boolean;
    workers?: number;
  }>();
  const known = opts.idsFrom === undefined ? undefined : await readKnownRows(opts.idsFrom);
  const progress = opts.quiet ? undefined : createProgress('generate');
  const started = process.hrtime.bigint();
  const files = await generateFiles({
    rows: opts.rows,
    outDir: opts.out,
    seed: opts.seed,
    dirty: opts.dirty,
    sources: opts.sources,
    lineEnding: opts.lineEnding,
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    ...(known ? { known } : {}),
    ...(progress ? { onProgress: (done: number, total: number) => progress.update(done, total) } : {}),
  });
  progress?.stop();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const f of files) console.log(`${f.path}: ${f.rows} rows`);
  console.error(`generate: ${files[0]?.rows ?? 0} rows x ${files.length} files in ${seconds.toFixed(1)} s`);
}

main().catch((error: unknown) => {
  console.error(`generate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
