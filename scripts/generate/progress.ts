// Progress of a long generation: a bar on a TTY, otherwise a plain line every few seconds (logs of
// CI and Airflow are not terminals and must not fill with carriage returns).
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {percentage}% | {value}/{total} rows | {eta_formatted} left`,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let startedBar = false;
    return {
      update(done, total) {
        if (!startedBar) {
          bar.start(total, 0);
          startedBar = true;
        }
        bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  let lastPrinted = started;
  const INTERVAL_MS = 5000;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - lastPrinted < INTERVAL_MS && done < total) return;
      lastPrinted = now;
      const rate = Math.round(done / Math.max(0.001, (now - started) / 1000));
      stream.write(
        `${label}: ${done}/${total} rows (${Math.floor((100 * done) / total)}%), ${rate} rows/s\n`,
      );
    },
    stop() {},
  };
}
