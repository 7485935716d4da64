// Summarises a V8 .cpuprofile (node --cpu-prof) into where the time goes: self time by function and
// by package or file. Pure aggregation plus a tiny CLI:
//   node --import tsx bench/cpu-profile.ts var/bench/prof/<file>.cpuprofile [top]
import fs from 'node:fs';

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  percent: number;
}

/** node_modules/<pkg> (scoped too), node:internal, or the repo-relative file. */
export function ownerOf(url: string): string {
  if (url === '') return '(native/gc/idle)';
  if (url.startsWith('node:')) return 'node internals';
  // A module bundled at run time and loaded from a data: URL names its source (producer senders).
  const bundle = /^data:[^,]*;bundle=([^;,]+)/.exec(url);
  if (bundle) return `${bundle[1]} (bundled)`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const repo = url.match(/\/(lib|tasks|api|bench|scripts)\/.*$/);
  return repo ? repo[0].slice(1) : url.replace(/^file:\/\//, '');
}

export function selfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  return self;
}

function top(totals: Map<string, number>, all: number, n: number): Share[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((ms / all) * 1000) / 10 }));
}

export function summarizeProfile(
  profile: CpuProfile,
  n = 15,
): { totalMs: number; byFunction: Share[]; byOwner: Share[] } {
  const self = selfTimes(profile);
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    total += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const owner = ownerOf(url);
    const fn = `${functionName || '(anonymous)'} ${owner}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + ms);
  }
  return {
    totalMs: Math.round(total),
    byFunction: top(byFunction, total, n),
    byOwner: top(byOwner, total, n),
  };
}

if (process.argv[1]?.endsWith('cpu-profile.ts') && process.argv[2]) {
  const summary = summarizeProfile(
    JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as CpuProfile,
    Number(process.argv[3] ?? 15),
  );
  const show = (title: string, rows: Share[]) =>
    console.log(
      `\n${title}\n${rows.map((r) => `${String(r.percent).padStart(5)}%  ${String(r.ms).padStart(7)} ms  ${r.name}`).join('\n')}`,
    );
  console.log(`total sampled: ${summary.totalMs} ms`);
  show('self time by package / file', summary.byOwner);
  show('self time by function', summary.byFunction);
}
