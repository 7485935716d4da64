// The ACS label hierarchy of a source, read from its labels: ` - ` separates levels and a trailing
// `:` marks a subtotal (the 65+ "two or more types" subtotal lacks the colon, so levels are
// compared without it). The generator draws the leaves and sums them upwards, which makes every
// subtotal exactly the sum of its parts, whatever the source.

export interface LabelTree {
  /** Per label: index of its parent label, or -1 for a root. */
  parent: Int32Array;
  /** Per label: true when no label has it as parent. */
  isLeaf: boolean[];
  /** Label indexes, children before parents: the order in which to sum upwards. */
  bottomUp: number[];
}

function levels(label: string): string[] {
  return label.split(' - ').map((level) => level.trim().replace(/:$/, ''));
}

export function buildLabelTree(labels: readonly string[]): LabelTree {
  const keys = labels.map((l) => levels(l).join('\u0000'));
  const indexOf = new Map(keys.map((k, i) => [k, i]));
  const totalIndex = indexOf.get('Total');
  const parent = new Int32Array(labels.length).fill(-1);
  labels.forEach((label, i) => {
    const parts = levels(label);
    if (parts.length > 1) {
      const p = indexOf.get(parts.slice(0, -1).join('\u0000'));
      if (p === undefined) throw new Error(`label without its parent subtotal: "${label}"`);
      parent[i] = p;
    } else if (totalIndex !== undefined && i !== totalIndex) {
      // Top-level groups ("Under 18 years:") add up to the table's "Total:".
      parent[i] = totalIndex;
    }
  });
  const isLeaf = labels.map((_, i) => !parent.includes(i));
  const depth = (i: number): number => (parent[i] === -1 ? 0 : 1 + depth(parent[i] as number));
  const bottomUp = labels.map((_, i) => i).sort((x, y) => depth(y) - depth(x));
  return { parent, isLeaf, bottomUp };
}
