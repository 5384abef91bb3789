import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { createRedis } from '../../shared/src/redis.js'
import { pipelineKeys } from '../../shared/src/pipeline/keys.js'
import { verifyPairsEventually } from '../../shared/src/pipeline/verify.js'
import { killAll } from '../../shared/testing/processes.js'
import { startSentinelTopology } from '../lib/redis-sentinel.js'
import { startTimedLoad, summarizeOutcomes, type LoadSummary } from '../../shared/testing/timed-load.js'
import { topology } from '../../topology.js'
import { startWholeCluster } from '../chaos/redis/cluster.js'
import { integer } from '../../shared/src/config.js'
import { envKnobs } from '../cli.js'

/**
 * `npm run bench:redis-failover`: the Sentinel topology and the whole topology (every instance,
 * and a gateway); a steady load per workload through the gateway while the Redis primary is
 * killed with -9 FAILOVERS times (default 3). Prints, per workload, the client-visible failed
 * requests and the longest error window; per failover the time from kill to promotion; then
 * how many acknowledged feed events are missing from the stream and whether `verify` passes
 * for the pairs. Knobs: FAILOVERS, CONNECTIONS (per workload, default 2), SETTLE_MS (2000).
 */
const { failovers, connections, settleMs } = envKnobs({
  failovers: integer('FAILOVERS', 3, { min: 1 }),
  connections: integer('CONNECTIONS', 2, { min: 1 }),
  settleMs: integer('SETTLE_MS', 2_000, { min: 0 })
})
const prefix = 'failover-bench'

interface Workload { name: string, method: string, path: () => string, body?: () => string, onResponse?: (status: number, body: string) => void }
const services = topology.services as Record<string, unknown>
let n = 0
const acknowledged: string[] = []
const workloads: Workload[] = [
  { name: 'echo GET (idempotent)', method: 'GET', path: () => '/api/echo/bench' },
  { name: 'echo POST (not retried)', method: 'POST', path: () => '/api/echo/bench', body: () => '{"x":1}' },
  ...('kv-quorum' in services
    ? [
        { name: 'kv-quorum PUT', method: 'PUT', path: () => `/api/kv-quorum/keys/k${(n++) % 100}`, body: () => 'value' },
        { name: 'kv-quorum GET', method: 'GET', path: () => `/api/kv-quorum/keys/k${(n++) % 100}` }
      ]
    : []),
  ...('feed' in services
    ? [{
        name: 'feed POST /events (writes Redis)',
        method: 'POST',
        path: () => '/api/feed/events',
        body: () => JSON.stringify({ account: `acct-${(n++) % 10}`, amount: 1 }),
        onResponse: (status: number, body: string) => { if (status === 202) acknowledged.push((JSON.parse(body) as { id: string }).id) }
      }]
    : [])
]

async function main (): Promise<void> {
  const dataRoot = mkdtempSync(join(tmpdir(), 'nines-failover-bench-'))
  const ha = await startSentinelTopology()
  const redis = createRedis(ha.url, undefined, { enableOfflineQueue: true, maxRetriesPerRequest: null })
  try {
    const { gatewayUrl: gateway } = await startWholeCluster(ha.url, prefix, dataRoot)
    if ('kv-quorum' in services) {
      // every key exists before the load, so a GET's 404 can only mean a lost write
      for (let k = 0; k < 100; k++) {
        const res = await request(`${gateway}/api/kv-quorum/keys/k${k}`, { method: 'PUT', body: 'value' })
        await res.body.dump()
        if (res.statusCode >= 300) throw new Error(`PUT k${k} answered ${res.statusCode}`)
      }
    }
    await ha.waitUntilRedundant()
    console.log(`redis failover bench: ${failovers} kill -9 of the primary, ${connections} connections per workload, node ${process.version}`)

    const loads = workloads.map((w) => startTimedLoad({
      url: () => `${gateway}${w.path()}`,
      method: w.method,
      ...(w.body !== undefined ? { body: w.body } : {}),
      ...(w.onResponse !== undefined ? { onResponse: w.onResponse } : {}),
      durationMs: 600_000,
      concurrency: connections
    }))
    const times: number[] = []
    try {
      await new Promise((resolve) => setTimeout(resolve, settleMs))
      for (let i = 0; i < failovers; i++) {
        await ha.waitUntilRedundant(30_000)
        const t0 = Date.now()
        const old = await ha.killPrimary()
        await ha.waitForFailover(old)
        times.push(Date.now() - t0)
        await new Promise((resolve) => setTimeout(resolve, settleMs))
      }
    } finally {
      for (const l of loads) l.stop()
    }
    const summaries: LoadSummary[] = []
    for (const l of loads) summaries.push(summarizeOutcomes(await l.done))
    console.log(`failover (kill -9 → Sentinels name the new primary): ${times.map((t) => `${t} ms`).join(', ')}`)
    console.log('| workload | requests | failed | failures | longest error window | longest gap between successes |')
    console.log('|---|---|---|---|---|---|')
    workloads.forEach((w, i) => {
      const s = summaries[i] as LoadSummary
      console.log(`| ${w.name} | ${s.sent} | ${s.failed} | ${JSON.stringify(s.failures)} | ${s.longestErrorWindowMs} ms | ${s.longestGapMs} ms |`)
    })
    if ('feed' in services) {
      const stored = new Set((await redis.xrange(pipelineKeys(prefix).feed, '-', '+')).map(([id]) => id))
      const lost = acknowledged.filter((id) => !stored.has(id))
      console.log(`feed: ${acknowledged.length} events acknowledged (202), ${lost.length} of them missing from the stream on the final primary${lost.length > 0 ? ` (${lost.slice(0, 5).join(', ')}…)` : ''}`)
      const report = await verifyPairsEventually(redis, prefix, 15_000)
      for (const r of report.pairs) {
        const { examples, ...rest } = r
        console.log(`verify ${JSON.stringify(rest)}${examples.length > 0 ? ` e.g. ${examples.slice(0, 3).join(', ')}` : ''}`)
      }
      console.log(`verify: ${report.ok ? 'OK' : 'FAILED'}`)
    }
  } finally {
    redis.disconnect()
    killAll()
    await ha.cleanup()
    rmSync(dataRoot, { recursive: true, force: true })
  }
}

await main()
