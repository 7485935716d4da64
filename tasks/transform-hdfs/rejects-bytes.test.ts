// rejects.csv and all_data_joined.csv byte for byte as the transform wrote them before rejects got
// typed codes (commit cb89710): on the sample, on a generated dirty file (`npm run generate --
// --rows 2000 --dirty 0.05 --seed 7`) and on that file damaged so that every reject code occurs.
// One exception: the damaged file's rejects.csv has the same lines as at cb89710 in another order.
// Both build sides have rejects there, and cb89710 wrote them as the concurrent reads interleaved
// (timing-dependent); they are now written income's first, then self-employment's (join.ts), so the
// hash below is that deterministic order's. The last test feeds the sources at other paces: an order
// left to read timing would show there.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_NAMES } from '../../lib/sources.ts';
import { generateFiles } from '../../scripts/generate/generate.ts';
import { transformLocal } from '../../test/fixtures/local-transform.ts';
import { SAMPLE_DIR } from '../../test/fixtures/sample-cubes.ts';
import { vandalize } from '../../test/fixtures/vandalize.ts';
import { REJECT_CODES } from './clean-source.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** sha256 of the outputs of commit cb89710 (string reasons) for the same inputs. */
const BEFORE = {
  sample: {
    rejects: 'b16affedc4124f0dcb4597e982f76ef8a665764c2ed2fc043a17cd301e01dd51',
    joined: '59b00d24367955d1e4a879a3c8f1c4d754a017251284260696821ab8493965de',
  },
  dirty: {
    rejects: 'b16affedc4124f0dcb4597e982f76ef8a665764c2ed2fc043a17cd301e01dd51',
    joined: '173b017df75837f1441c9dff287e99eb5ca35d5145645c74c9cbfb5ff0f486c4',
  },
  damaged: {
    // cb89710's lines, build sides' rejects in the fixed order (cb89710's interleaving: dfcfdebb...).
    rejects: '18013ac09f591ae5f692e01c5b6a23e1a38e8024073a3e607b6bcc1876eedec1',
    joined: '00c9fee986b4fbdaf31569fdf6cb1745510243b122a8e5eddd1e4cc5f282bff3',
  },
};

let tmp: string;
const dirty = () => path.join(tmp, 'dirty');
const damaged = () => path.join(tmp, 'damaged');

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rejects-bytes-'));
  const options = { rows: 2000, seed: '7', dirty: 0.05, sources: SOURCE_NAMES, lineEnding: 'lf' } as const;
  await generateFiles({ ...options, outDir: dirty() });
  await generateFiles({ ...options, outDir: damaged() });
  vandalize(damaged());
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('transform outputs, byte for byte', () => {
  it('on the sample', async () => {
    const out = await transformLocal(SAMPLE_DIR);
    expect({ rejects: sha256(out.rejects), joined: sha256(out.joined) }).toEqual(BEFORE.sample);
  });

  it('on a generated dirty file', async () => {
    const out = await transformLocal(dirty());
    expect({ rejects: sha256(out.rejects), joined: sha256(out.joined) }).toEqual(BEFORE.dirty);
  });

  it('on a damaged file where every reject code occurs', async () => {
    const out = await transformLocal(damaged());
    const reasons = out.rejects.toString('utf8');
    for (const code of REJECT_CODES) expect(reasons, code).toMatch(new RegExp(`,"?${code}: `));
    expect({ rejects: sha256(out.rejects), joined: sha256(out.joined) }).toEqual(BEFORE.damaged);
  });

  it('the same bytes whatever pace each source is read at', async () => {
    for (const pace of [
      { income: 1024, self_employment: 256 * 1024 },
      { income: 256 * 1024, self_employment: 1024 },
      { health_insurance: 1024, self_employment: 4096 },
    ]) {
      const out = await transformLocal(damaged(), pace);
      expect({ rejects: sha256(out.rejects), joined: sha256(out.joined) }, JSON.stringify(pace)).toEqual(
        BEFORE.damaged,
      );
    }
  });
});
