import { describe, expect, it } from 'vitest';
import { nodeFlagsWithoutTsx } from './esm-bundle.ts';

describe('nodeFlagsWithoutTsx', () => {
  it("drops tsx's loader flags, in both spellings, and keeps every other flag", () => {
    expect(
      nodeFlagsWithoutTsx([
        '--require',
        '/app/node_modules/tsx/dist/preflight.cjs',
        '--import',
        'file:///app/node_modules/tsx/dist/loader.mjs',
        '--import=file:///app/node_modules/tsx/dist/loader.mjs',
        '--import',
        'tsx',
        '--import=tsx',
        '--cpu-prof',
        '--import',
        './instrument.mjs',
        '--max-old-space-size=100',
      ]),
    ).toEqual(['--cpu-prof', '--import', './instrument.mjs', '--max-old-space-size=100']);
  });
});
