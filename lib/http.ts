// A GET of a local service's plain-text endpoint (/metrics, /readyz) that may not answer yet: the
// followers of `npm run live` and the bench's live stage poll them while they start and stop.

/** The body of a GET of `url`; undefined when it does not answer 2xx within `timeoutMs`. */
export async function fetchText(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}
