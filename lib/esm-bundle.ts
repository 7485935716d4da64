// One plain-JavaScript ES module of a TypeScript entry and the project modules it imports, for the
// threads and processes a task starts itself. Started through tsx, each of them would register tsx's
// loader of its own: a loader-hooks thread and an esbuild service process, ~45 MB of resident memory
// per thread or process (measured on a worker importing the consumer's store and kafkajs: 86 MB +
// 12 MB esbuild under tsx, 54 MB as a bundle). esbuild is the compiler tsx itself runs.
import type { Plugin } from 'esbuild';

/** Bare specifiers (packages) resolve to absolute file URLs, so the bundle runs from any place. */
const packagesByUrl: Plugin = {
  name: 'packages-by-url',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, ({ path }) => ({
      path: path.startsWith('node:') ? path : import.meta.resolve(path),
      external: true,
    }));
  },
};

/**
 * The bundle of `entryFile` as source text; `name` is the `sourceURL` that stack traces and CPU
 * profiles show for it.
 */
export async function bundleEsm(entryFile: string, name: string): Promise<string> {
  const esbuild = await import('esbuild');
  try {
    const result = await esbuild.build({
      entryPoints: [entryFile],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      plugins: [packagesByUrl],
    });
    return `${result.outputFiles[0]!.text}//# sourceURL=${name}\n`;
  } finally {
    // The esbuild service process would otherwise live as long as the task.
    await esbuild.stop();
  }
}

// `tsx` itself (as `node --import tsx` spells it) or a file inside the tsx package.
const TSX_ARG = /(^|=|[\\/])tsx($|[\\/])/;
const isTsx = (arg: string | undefined) => !!arg && TSX_ARG.test(arg);

/** The parent's Node flags without tsx's loader flags (a bundle needs none). */
export function nodeFlagsWithoutTsx(execArgv: readonly string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    if ((flag === '--require' || flag === '-r' || flag === '--import') && isTsx(execArgv[i + 1])) i++;
    else if (!isTsx(flag)) flags.push(flag);
  }
  return flags;
}
