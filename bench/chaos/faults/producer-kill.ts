// The producer SIGKILLed mid-send (produce-fault.ts), then re-run under the same event ids.
import type { Fault } from '../fault.ts';
import { PRODUCE_FAULT_TITLES, produceFault } from '../produce-fault.ts';

export const producerKillFault: Fault = {
  name: 'producer-kill',
  title: PRODUCE_FAULT_TITLES.kill,
  run: (ctx, inputs) => produceFault(ctx, inputs, 'kill'),
};
