// What a fault of the chaos suite is: a name (for --only), a title (for the report) and a run that
// injects it against the context's stack and returns its row.
import type { ChaosContext } from './context.ts';
import type { Row } from './report.ts';

/** Sizes of a chaos run (--short or full) and the generated inputs every fault shares. */
export interface ChaosInputs {
  /** Directory of the big generated sources (the "new" version). */
  big: string;
  /** Directory of the small generated sources (the "previous" version). */
  small: string;
  /** total-population.csv of the big sources: what the producer sends. */
  population: string;
  loops: number;
  kills: number;
  nnRuns: number;
}

export interface Fault {
  name: string;
  title: string;
  run(ctx: ChaosContext, inputs: ChaosInputs): Promise<Row>;
}
