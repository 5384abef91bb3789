import { request } from 'undici'
import { startGateway, startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { waitFor } from '../../shared/testing/wait.js'

/**
 * Lease timings for tests: the default TTL (a shorter one saw false takeovers on the loaded
 * 2-core machine, which would make role assertions flaky), a quicker warm and mark poll.
 */
export const testLease: Record<string, string> = {
  LEDGER_LEASE_TTL_MS: '1000',
  LEDGER_LEASE_RENEW_MS: '200',
  LEDGER_LEASE_RETRY_MS: '40',
  LEDGER_LEASE_MARGIN_MS: '100',
  LEDGER_HWM_POLL_MS: '300'
}

export interface PairsCluster {
  redis: TestRedis
  env: Record<string, string>
  gateway: RunningProcess
  sinks: RunningProcess[]
  feeds: RunningProcess[]
  ledgers: Map<string, RunningProcess>
  startLedger: (id: string, extra?: Record<string, string>) => Promise<RunningProcess>
  startSink: (id: string) => Promise<RunningProcess>
}

export async function startPairsCluster (prefix: string, ledgerEnv: Record<string, Record<string, string>> = {}): Promise<PairsCluster> {
  const redis = await startRedis()
  const env = { REDIS_URL: redis.url, NINES_PREFIX: prefix, LOG_LEVEL: 'info' }
  const ledgers = new Map<string, RunningProcess>()
  const startSink = async (id: string): Promise<RunningProcess> => await startInstance('sink', { ...env, INSTANCE_ID: id })
  const startLedger = async (id: string, extra: Record<string, string> = {}): Promise<RunningProcess> => {
    const pair = id.startsWith('ledger-hh') ? 'hot-hot' : 'hot-warm'
    const proc = await startInstance(pair === 'hot-hot' ? 'ledger-hh' : 'ledger-hw', { ...env, ...testLease, LEDGER_PAIR: pair, INSTANCE_ID: id, ...ledgerEnv[id], ...extra })
    ledgers.set(id, proc)
    return proc
  }
  const [sinks, feeds] = await Promise.all([
    Promise.all(['sink-1', 'sink-2'].map(startSink)),
    Promise.all(['feed-1', 'feed-2'].map(async (id) => await startInstance('feed', { ...env, INSTANCE_ID: id })))
  ])
  const gateway = await startGateway(env)
  return { redis, env, gateway, sinks, feeds, ledgers, startLedger, startSink }
}

export async function getJson (url: string): Promise<any> {
  const res = await request(url)
  return await res.body.json()
}

export async function postEvent (gatewayUrl: string, event: unknown): Promise<{ status: number, body: any }> {
  const res = await request(`${gatewayUrl}/api/feed/events`, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json' } })
  return { status: res.statusCode, body: await res.body.json() }
}

/** The registry roles of a service through the gateway: `{ id: role }`. */
export async function roles (gatewayUrl: string, service: string): Promise<Record<string, string>> {
  const registry = await getJson(`${gatewayUrl}/registry`)
  return Object.fromEntries((registry.services[service] ?? []).map((i: { id: string, role: string }) => [i.id, i.role]))
}

/** Waits until the gateway's registry shows hot-warm member `id` in `role` ('hot' or 'warm'). */
export async function waitForRole (gatewayUrl: string, id: string, role: 'hot' | 'warm', timeoutMs = 5_000, what = `${id} ${role}`): Promise<void> {
  await waitFor(async () => (await roles(gatewayUrl, 'ledger-hw'))[id] === role, timeoutMs, what)
}

/**
 * Posts events with a few concurrent senders until stopped; counts the accepted ones and keeps
 * every failure (a non-202 answer or a request error) so a test can assert there was none.
 */
export function pump (gatewayUrl: string, { concurrency = 3, accounts = 5, pauseMs = 5 } = {}): { stop: () => Promise<number>, failures: () => string[] } {
  const state = { running: true }
  let accepted = 0
  let n = 0
  const failures: string[] = []
  const sender = async (): Promise<void> => {
    while (state.running) {
      const i = n++
      try {
        const r = await postEvent(gatewayUrl, { account: `acct-${i % accounts}`, amount: (i % 7) - 2 })
        if (r.status === 202) accepted++
        else failures.push(`http ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`)
      } catch (err) {
        failures.push(`${(err as Error).name}: ${(err as Error).message}`)
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }
  const senders = Array.from({ length: concurrency }, sender)
  return {
    stop: async () => {
      state.running = false
      await Promise.all(senders)
      return accepted
    },
    failures: () => [...failures]
  }
}

/**
 * Samples a counter every `everyMs` until `untilMs` (Date.now) and returns the samples; a sample
 * that fails to read is an error the caller sees, not a gap.
 */
export async function sampleCounter (read: () => Promise<number>, untilMs: number, everyMs = 25): Promise<Array<[number, number]>> {
  const samples: Array<[number, number]> = []
  while (Date.now() < untilMs) {
    samples.push([Date.now(), await read()])
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return samples
}

/** The longest time the counter stood still between `fromMs` and `toMs` (ms), from samples in time order. */
export function longestStall (samples: ReadonlyArray<readonly [number, number]>, fromMs: number, toMs: number): number {
  const window = samples.filter(([t]) => t >= fromMs && t <= toMs)
  let longest = 0
  let since = window[0]?.[0] ?? fromMs
  for (let i = 1; i < window.length; i++) {
    const [t, n] = window[i]!
    if (n > window[i - 1]![1]) since = t
    longest = Math.max(longest, t - since)
  }
  return longest
}
