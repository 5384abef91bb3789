import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { request } from 'undici'
import { fastTimings } from '../../shared/testing/cluster.js'
import { killAll, spawnNode, type SpawnedNode } from '../../shared/testing/processes.js'
import { startSentinelTopology } from '../../shared/testing/redis-sentinel.js'
import { startTimedLoad, summarizeOutcomes, type LoadSummary } from '../../shared/testing/timed-load.js'
import { freePort } from '../launcher/ports.js'

/**
 * `npm run bench:redis-failover`: the Sentinel topology, echo ×3, kv-quorum ×3 and a gateway;
 * a steady load per workload through the gateway while the Redis primary is killed with -9
 * FAILOVERS times (default 3). Prints, per workload, the client-visible failed requests and the
 * longest error window, and per failover the time from kill to promotion.
 * Knobs: FAILOVERS, CONNECTIONS (per workload, default 2), SETTLE_MS between failovers (2000).
 */
const root = resolve(import.meta.dirname, '../../..')
const failovers = Number(process.env.FAILOVERS ?? 3)
const connections = Number(process.env.CONNECTIONS ?? 2)
const settleMs = Number(process.env.SETTLE_MS ?? 2_000)

interface Workload { name: string, method: string, path: () => string, body?: string }
let n = 0
const workloads: Workload[] = [
  { name: 'echo GET (idempotent)', method: 'GET', path: () => '/api/echo/bench' },
  { name: 'echo POST (not retried)', method: 'POST', path: () => '/api/echo/bench', body: '{"x":1}' },
  { name: 'kv-quorum PUT', method: 'PUT', path: () => `/api/kv-quorum/keys/k${(n++) % 100}`, body: 'value' },
  { name: 'kv-quorum GET', method: 'GET', path: () => `/api/kv-quorum/keys/k${(n++) % 100}` }
]

async function main (): Promise<void> {
  const dataRoot = mkdtempSync(join(tmpdir(), 'nines-failover-bench-'))
  const ha = await startSentinelTopology()
  try {
    const env = { ...fastTimings, REDIS_URL: ha.url, NINES_PREFIX: 'failover-bench', LOG_LEVEL: 'warn' }
    const procs: SpawnedNode[] = []
    const start = async (entry: string, extra: Record<string, string>, ready: string): Promise<void> => {
      const proc = spawnNode(resolve(root, entry), { ...env, LOG_LEVEL: 'info', ...extra })
      await proc.waitForLog((e) => e.msg === ready)
      procs.push(proc)
    }
    for (const id of ['echo-1', 'echo-2', 'echo-3']) await start('dist/services/echo/src/server.js', { INSTANCE_ID: id }, 'service ready')
    for (const id of ['kv-quorum-1', 'kv-quorum-2', 'kv-quorum-3']) {
      await start('dist/services/kv-quorum/src/server.js', { INSTANCE_ID: id, KVQ_DATA_DIR: join(dataRoot, id), KVQ_REPLICAS: 'kv-quorum-1,kv-quorum-2,kv-quorum-3' }, 'service ready')
    }
    const port = await freePort()
    await start('dist/gateway/src/server.js', { PORT: String(port) }, 'gateway ready')
    const gateway = `http://127.0.0.1:${port}`
    for (let i = 0; i < 100; i++) {
      const res = await request(`${gateway}/readyz`)
      await res.body.dump()
      if (res.statusCode === 200) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // every key exists before the load, so a GET's 404 can only mean a lost write
    for (let k = 0; k < 100; k++) {
      const res = await request(`${gateway}/api/kv-quorum/keys/k${k}`, { method: 'PUT', body: 'value' })
      await res.body.dump()
      if (res.statusCode >= 300) throw new Error(`PUT k${k} answered ${res.statusCode}`)
    }
    await ha.waitUntilRedundant()
    console.log(`redis failover bench: ${failovers} kill -9 of the primary, ${connections} connections per workload, node ${process.version}`)

    const loads = workloads.map((w) => startTimedLoad({ url: () => `${gateway}${w.path()}`, method: w.method, ...(w.body !== undefined ? { body: w.body } : {}), durationMs: 600_000, concurrency: connections }))
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
  } finally {
    killAll()
    await ha.cleanup()
    rmSync(dataRoot, { recursive: true, force: true })
  }
}

await main()
