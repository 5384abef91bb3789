import { seededRandom } from '../../../shared/testing/random.js'
import type { SentinelRedis } from '../../launcher/redis-sentinel.js'

/**
 * The Redis primary's faults of issue 13, on the Sentinel topology:
 * - `redis-primary-kill`: kill -9; the Sentinels promote the replica, the dead node comes back as
 *   a replica of the new primary;
 * - `redis-primary-freeze`: SIGSTOP for longer than down-after (the Sentinels promote the
 *   replica), then SIGCONT: the old primary wakes believing it still leads until demoted;
 * - `redis-primary-rejoin`: kill -9 and started again at once on its own data, as a primary
 *   (the case that lost 2,214 acknowledged writes of a plain client: a spurious second failover).
 */
export const redisFaultKinds = ['redis-primary-kill', 'redis-primary-freeze', 'redis-primary-rejoin'] as const
export type RedisFaultKind = typeof redisFaultKinds[number]

export interface PlannedRedisFault { kind: RedisFaultKind, freezeMs?: number }

/**
 * `count` faults, the kinds in equal shares (a seeded order, so `--seed` replays it), freezes
 * lasting a seeded time in `freezeMs` (longer than Sentinel's down-after).
 */
export function planRedisFaults (seed: number, count: number, kinds: readonly RedisFaultKind[], freezeMs: readonly [number, number]): PlannedRedisFault[] {
  const random = seededRandom(seed)
  const order = Array.from({ length: count }, (_, i) => kinds[i % kinds.length] as RedisFaultKind)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j] as RedisFaultKind, order[i] as RedisFaultKind]
  }
  return order.map((kind) => kind === 'redis-primary-freeze'
    ? { kind, freezeMs: Math.round(freezeMs[0] + random() * (freezeMs[1] - freezeMs[0])) }
    : { kind })
}

export interface RedisFaultEvent {
  kind: RedisFaultKind
  /** Monotonic ms since the run started: when the fault hit. */
  atMs: number
  /** When it was over (a freeze's SIGCONT, a rejoin's restart). */
  endMs: number
  oldPrimary: number
  /** The primary afterwards; the same port when no failover happened (a quick rejoin). */
  newPrimary?: number
  /** Fault → the Sentinels name another primary, ms (undefined: none did). */
  promotionMs?: number
  error?: string
}

/** Carries one fault out and follows it until the Sentinels name another primary (a rejoin may end with none). */
export async function injectRedisFault (ha: SentinelRedis, fault: PlannedRedisFault, clock: () => number, promotionTimeoutMs = 20_000): Promise<RedisFaultEvent> {
  const atMs = clock()
  let oldPrimary = 0
  try {
    oldPrimary = await ha.primaryPort()
    let promoted: Promise<number | undefined> = Promise.resolve(undefined)
    const watch = (): void => {
      promoted = ha.waitForFailover(oldPrimary, promotionTimeoutMs).then(() => clock() - atMs, () => undefined)
    }
    if (fault.kind === 'redis-primary-kill') {
      await ha.killPrimary()
      watch()
    } else if (fault.kind === 'redis-primary-freeze') {
      watch()
      await ha.freezePrimary(fault.freezeMs ?? 3_000)
    } else {
      watch()
      await ha.rejoinPrimary()
    }
    const endMs = clock()
    // a quick rejoin may leave the same primary: stop waiting for a promotion once the pair is whole again
    const promotionMs = fault.kind === 'redis-primary-rejoin'
      ? await Promise.race([promoted, ha.waitUntilRedundant(promotionTimeoutMs).then(async () => { await new Promise((resolve) => setTimeout(resolve, 3_000)); return undefined })])
      : await promoted
    const newPrimary = await ha.primaryPort().catch(() => undefined)
    return { kind: fault.kind, atMs, endMs, oldPrimary, ...(newPrimary !== undefined ? { newPrimary } : {}), ...(promotionMs !== undefined ? { promotionMs } : {}) }
  } catch (err) {
    return { kind: fault.kind, atMs, endMs: clock(), oldPrimary, error: (err as Error).message }
  }
}
