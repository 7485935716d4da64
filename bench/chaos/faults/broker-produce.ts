// Broker stopped while the producer sends (produce-fault.ts), restarted; the producer re-run if it failed.
import type { Fault } from '../fault.ts';
import { PRODUCE_FAULT_TITLES, produceFault } from '../produce-fault.ts';

export const brokerProduceFault: Fault = {
  name: 'broker-produce',
  title: PRODUCE_FAULT_TITLES.broker,
  run: (ctx, inputs) => produceFault(ctx, inputs, 'broker'),
};
