/** Test support: waiting for what a child process or a server does. */

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Polls `condition` every `pollMs` until it holds; throws naming `what` once `ms` passed without it. */
export async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 30_000, pollMs = 50): Promise<void> {
  const end = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}
