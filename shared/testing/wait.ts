import { setTimeout as sleep } from 'node:timers/promises'

export { sleep }

/**
 * Polls `check` every `everyMs` until it holds; a check that throws counts as not yet. Throws,
 * naming `what`, once `timeoutMs` has passed.
 */
export async function waitFor (check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition', everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await sleep(everyMs)
  }
}
