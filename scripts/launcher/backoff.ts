export interface BackoffPolicy {
  /** @default 250 */
  initialMs: number
  /** @default 5000 */
  maxMs: number
  /** A process up this long is considered healthy again and its backoff resets. @default 10000 */
  resetAfterMs: number
}

const defaultBackoff: BackoffPolicy = { initialMs: 250, maxMs: 5_000, resetAfterMs: 10_000 }

/** Delay before restart number `restarts` (0-based) of a process that lived `uptimeMs`. */
export function restartDelay (restarts: number, uptimeMs: number, policy: BackoffPolicy = defaultBackoff): { delayMs: number, restarts: number } {
  const consecutive = uptimeMs >= policy.resetAfterMs ? 0 : restarts
  return { delayMs: Math.min(policy.maxMs, policy.initialMs * 2 ** consecutive), restarts: consecutive + 1 }
}
