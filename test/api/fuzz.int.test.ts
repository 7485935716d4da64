// The OpenAPI-driven fuzz (test/api/fuzz.sh: schemathesis, every check, every operation) as part of the
// integration suite. It needs the project venv (.venv, made by npm run airflow:setup, which pins
// schemathesis); without it the test is skipped and says why.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const schemathesis = process.env.SCHEMATHESIS ?? path.join(root, '.venv/bin/schemathesis');
const available = fs.existsSync(schemathesis);
if (!available) {
  console.warn(
    `api fuzz skipped: ${schemathesis} not found (npm run airflow:setup creates .venv with schemathesis)`,
  );
}

describe.skipIf(!available)('OpenAPI fuzz (schemathesis)', () => {
  it('finds no server error and no response outside the document', () => {
    const run = spawnSync('bash', [path.join(root, 'test/api/fuzz.sh')], {
      cwd: root,
      env: {
        ...process.env,
        SCHEMATHESIS: schemathesis,
        FUZZ_MAX_EXAMPLES: process.env.FUZZ_MAX_EXAMPLES ?? '50',
      },
      encoding: 'utf8',
      timeout: 600_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.error, output).toBeUndefined();
    expect(run.status, output.slice(-6000)).toBe(0);
    expect(output).toMatch(/passed/);
  }, 620_000);
});
