// Every fault of the chaos suite, in the order they run. The NameNode fault comes first: it also
// leaves the new joined file in place, which the consumer runs need.
import type { Fault } from '../fault.ts';
import { brokerConsumeFault } from './broker-consume.ts';
import { brokerProduceFault } from './broker-produce.ts';
import { consumerKillFault } from './consumer-kill.ts';
import { namenodeFault } from './namenode.ts';
import { producerKillFault } from './producer-kill.ts';

export const FAULTS: readonly Fault[] = [
  namenodeFault,
  consumerKillFault,
  brokerConsumeFault,
  brokerProduceFault,
  producerKillFault,
];

export const FAULT_NAMES: readonly string[] = FAULTS.map((f) => f.name);
