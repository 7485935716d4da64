// Giving memory back when a thread is done with a large transient structure.
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | undefined;

/**
 * Runs a full garbage collection now. For a thread that has just dropped a large structure and will
 * allocate little afterwards (the producer's parent once its senders hold the rows): V8 collects on
 * allocation, so without this the dead structure stays resident for the whole run. `--expose-gc`
 * set at run time only exposes `gc` to contexts created after it, hence the fresh context.
 */
export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
