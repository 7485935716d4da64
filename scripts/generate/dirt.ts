// Realistic dirt for generated cells, as found in ACS downloads and hand-edited exports. Every dirty
// numeric cell is either an "unknown" marker (cleaning maps it to NULL) or the same number written
// differently (cleaning restores the value): the tests hold the generator to that.
import { formatCsvField } from '../../lib/csv.ts';
import type { Prng } from './prng.ts';

export type DirtKind = 'marker' | 'empty' | 'whitespace' | 'thousands' | 'float';

const MARKERS = ['-', '**', 'N/A'] as const;
const KINDS: readonly DirtKind[] = ['marker', 'marker', 'empty', 'whitespace', 'thousands', 'float'];

/** `1234567.5` -> `1,234,567.5`. */
export function withThousandsSeparators(text: string): string {
  const dot = text.indexOf('.');
  const intPart = dot === -1 ? text : text.slice(0, dot);
  let grouped = '';
  for (let i = 0; i < intPart.length; i++) {
    if (i > 0 && (intPart.length - i) % 3 === 0) grouped += ',';
    grouped += intPart[i];
  }
  return dot === -1 ? grouped : grouped + text.slice(dot);
}

function strayWhitespace(text: string, rng: Prng): string {
  switch (rng.int(3)) {
    case 0:
      return ` ${text}`;
    case 1:
      return `${text} `;
    default:
      return `  ${text}\t`;
  }
}

/** A dirty rendering of the number whose clean CSV cell is `clean` (already a valid CSV field). */
export function dirtyNumberCell(clean: string, rng: Prng): string {
  const kind = KINDS[rng.int(KINDS.length)] as DirtKind;
  switch (kind) {
    case 'marker':
      return MARKERS[rng.int(MARKERS.length)] as string;
    case 'empty':
      return '';
    case 'whitespace':
      return strayWhitespace(clean, rng);
    case 'thousands':
      // Only numbers of four digits or more get a separator; the cell then needs CSV quotes.
      return clean.indexOf('.') === -1
        ? clean.length > 3
          ? formatCsvField(withThousandsSeparators(clean))
          : strayWhitespace(clean, rng)
        : clean.indexOf('.') > 3
          ? formatCsvField(withThousandsSeparators(clean))
          : `${clean}0`;
    case 'float':
      return clean.indexOf('.') === -1 ? `${clean}.0` : `${clean}0`;
  }
}

/** A dirty neighborhood name: the same name with stray or doubled whitespace. */
export function dirtyNameCell(name: string, rng: Prng): string {
  const space = name.indexOf(' ');
  if (space !== -1 && rng.int(2) === 0)
    return formatCsvField(`${name.slice(0, space)}  ${name.slice(space + 1)}`);
  return formatCsvField(strayWhitespace(name, rng));
}
