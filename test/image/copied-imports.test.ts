// The task image (Dockerfile.task) holds only product code: nothing it copies imports test support,
// a file it does not copy, or a development-only package.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { copiedFiles, copiedSources, dockerIgnore, unresolvableImports } from './copied-imports.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('Dockerfile.task', () => {
  it('copies the product folders, and no test file', () => {
    const files = copiedFiles(root);
    expect(files).toContain('api/server.ts');
    expect(files).toContain('tasks/producer/cli.ts');
    expect(files).toContain('lib/config.ts');
    expect(files.filter((f) => f.startsWith('test/') || f.endsWith('.test.ts'))).toEqual([]);
  });

  it('ships no file that imports anything under test/, outside the image, or a dev dependency', () => {
    expect(unresolvableImports(root)).toEqual([]);
  });
});

describe('the image import check', () => {
  const tree = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-imports-'));
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
  };

  it('reads the sources of the last stage, skipping copies from another stage', () => {
    const dockerfile = [
      'FROM node AS deps',
      'COPY package.json ./',
      'FROM node',
      'COPY --from=deps /app/node_modules ./node_modules',
      'COPY --chown=node:node package.json tsconfig.json ./',
      'COPY lib ./lib',
    ].join('\n');
    expect(copiedSources(dockerfile)).toEqual(['package.json', 'tsconfig.json', 'lib']);
  });

  it('applies .dockerignore like docker: globs, ** and whole directories', () => {
    const ignored = dockerIgnore('# c\n**/*.test.ts\nbench\n*.md\n');
    expect(ignored('api/app.test.ts')).toBe(true);
    expect(ignored('app.test.ts')).toBe(true);
    expect(ignored('bench/chaos/verify.ts')).toBe(true);
    expect(ignored('README.md')).toBe(true);
    expect(ignored('api/README.md')).toBe(false);
    expect(ignored('api/app.ts')).toBe(false);
  });

  it('flags an import of test/, of a file left out, and of a dev dependency', () => {
    const dir = tree({
      'Dockerfile.task': 'FROM node\nCOPY package.json ./\nCOPY api ./api\n',
      '.dockerignore': '**/*.test.ts\n',
      'package.json': JSON.stringify({ dependencies: { express: '5' }, devDependencies: { vitest: '4' } }),
      'api/ok.ts': "import fs from 'node:fs';\nimport express from 'express';\nimport { a } from './b.ts';\n",
      'api/b.ts': 'export const a = 1;\n',
      'api/fuzz.ts': "import { x } from '../test/fixtures/x.ts';\nconst y = await import('./gone.ts');\n",
      'api/uses-dev.ts': "import { it } from 'vitest';\n",
      'api/only.test.ts': "import { x } from '../test/fixtures/x.ts';\n",
      'test/fixtures/x.ts': 'export const x = 1;\n',
    });
    expect(unresolvableImports(dir)).toEqual([
      'api/fuzz.ts: ../test/fixtures/x.ts (outside the product folders: test/fixtures/x.ts)',
      'api/fuzz.ts: ./gone.ts (api/gone.ts is not copied)',
      'api/uses-dev.ts: vitest (not a production dependency)',
    ]);
  });
});
