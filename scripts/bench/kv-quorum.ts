/**
 * kv-quorum through the gateway: writes/s and reads/s with p50/p99 at (W,R) = (1,1 eventual),
 * (2,2), (3,1), then the same with one replica killed. Starts its own Redis, three replicas and
 * a gateway (or targets BENCH_URL, skipping the one-down phase). Not a test: it prints figures.
 *
 *   npm run bench:kv-quorum
 *   BENCH_DURATION_S=10 BENCH_CONNECTIONS=64 npm run bench:kv-quorum
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { integer, string } from '../../shared/src/config.js'
import { percentile } from '../../shared/src/percentile.js'
import { freePort } from '../../shared/testing/ports.js'
import { killAll, spawnReady, type SpawnedNode } from '../../shared/testing/processes.js'
import { startRedis } from '../../shared/testing/redis-server.js'
import { waitFor } from '../../shared/testing/wait.js'
import { envKnobs } from '../cli.js'
import { fastTimings, gatewayEntry, serviceEntry } from '../lib/cluster.js'

const { durationS, connections, keys, valueBytes, target: benchUrl } = envKnobs({
  durationS: integer('BENCH_DURATION_S', 5, { min: 1 }),
  connections: integer('BENCH_CONNECTIONS', 32, { min: 1 }),
  keys: integer('BENCH_KEYS', 1_000, { min: 1 }),
  valueBytes: integer('BENCH_VALUE_BYTES', 100, { min: 1 }),
  target: string('BENCH_URL', '')
})

interface Scenario { label: string, query: string }
const scenarios: Scenario[] = [
  { label: '(1,1) eventual', query: 'w=1&r=1&consistency=eventual' },
  { label: '(2,2)', query: 'w=2&r=2' },
  { label: '(3,1)', query: 'w=3&r=1' }
]

interface PhaseResult { requests: number, ok: number, failed: number, statuses: Record<string, number>, perSecond: number, p50: number, p99: number }

/** A closed loop: `connections` workers, each sending one request after another until the time is up. */
async function phase (pool: Pool, method: 'PUT' | 'GET', query: string, seconds = durationS): Promise<PhaseResult> {
  const value = Buffer.alloc(valueBytes, 'x')
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let next = 0
  let ok = 0
  const started = performance.now()
  const deadline = started + seconds * 1_000
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < deadline) {
      const key = `bench-${next++ % keys}`
      const t0 = performance.now()
      let status = 'error'
      try {
        const res = await pool.request({ method, path: `/api/kv-quorum/keys/${key}?${query}`, ...(method === 'PUT' ? { body: value } : {}), headersTimeout: 10_000, bodyTimeout: 10_000 })
        await res.body.dump()
        status = String(res.statusCode)
        if (res.statusCode === 200) ok++
      } catch {}
      latencies.push(performance.now() - t0)
      statuses[status] = (statuses[status] ?? 0) + 1
    }
  }))
  const elapsedS = (performance.now() - started) / 1_000
  return { requests: latencies.length, ok, failed: latencies.length - ok, statuses, perSecond: latencies.length / elapsedS, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) }
}

interface Row { scenario: string, replicasUp: number, op: string, r: PhaseResult }

function table (rows: Row[]): string {
  const lines = [
    '| (W,R) | replicas up | op | req/s | p50 ms | p99 ms | requests | failed | statuses |',
    '|---|---|---|---|---|---|---|---|---|'
  ]
  for (const { scenario, replicasUp, op, r } of rows) {
    lines.push(`| ${scenario} | ${replicasUp}/3 | ${op} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.requests} | ${r.failed} | ${Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(' ')} |`)
  }
  return lines.join('\n')
}

async function registryCount (pool: Pool): Promise<number> {
  const res = await pool.request({ method: 'GET', path: '/registry' })
  const body = await res.body.json() as { services: Record<string, Array<{ healthy?: boolean }>> }
  return (body.services['kv-quorum'] ?? []).filter((i) => i.healthy !== false).length
}

async function main (): Promise<void> {
  const rows: Row[] = []
  let dataRoot: string | undefined
  let target = benchUrl
  const replicas: SpawnedNode[] = []
  try {
    if (target === undefined || target === '') {
      const redis = await startRedis()
      dataRoot = mkdtempSync(join(tmpdir(), 'kvq-bench-'))
      const env = { ...fastTimings, REDIS_URL: redis.url, NINES_PREFIX: 'kvq-bench', LOG_LEVEL: 'warn' }
      for (const id of ['kv-quorum-1', 'kv-quorum-2', 'kv-quorum-3']) {
        replicas.push(await spawnReady(serviceEntry('kv-quorum'), { ...env, LOG_LEVEL: 'info', INSTANCE_ID: id, KVQ_DATA_DIR: join(dataRoot, id) }))
      }
      const port = await freePort()
      await spawnReady(gatewayEntry, { ...env, LOG_LEVEL: 'info', PORT: String(port) }, { readyMsg: 'gateway ready' })
      target = `http://127.0.0.1:${port}`
    }
    const pool = new Pool(target, { connections })
    await waitFor(async () => await registryCount(pool) === 3, 15_000, 'three kv-quorum instances behind the gateway', 100)
    console.log(`kv-quorum bench: ${target}, ${connections} connections, ${durationS} s per phase, ${keys} keys, ${valueBytes} B values, node ${process.version}`)
    // warm-up (JIT, connection pools on every hop), not recorded
    await phase(pool, 'PUT', 'w=2&r=2', 1)
    await phase(pool, 'GET', 'w=2&r=2', 1)

    const run = async (s: Scenario, up: number): Promise<void> => {
      for (const op of ['PUT', 'GET'] as const) {
        const r = await phase(pool, op, s.query)
        rows.push({ scenario: s.label, replicasUp: up, op: op === 'PUT' ? 'write' : 'read', r })
        console.log(`${s.label.padEnd(15)} ${up}/3 up ${op.padEnd(3)} ${r.perSecond.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  failed ${r.failed}/${r.requests}`)
      }
    }
    for (const s of scenarios) await run(s, 3)

    if (replicas.length === 3) {
      const victim = replicas[2] as SpawnedNode
      victim.signal('SIGKILL')
      await victim.exited
      // "one replica down": measured once the gateway has noticed (requests in flight at the
      // moment of the kill are the gateway's retry policy's business, not the quorum's)
      await waitFor(async () => await registryCount(pool) === 2, 15_000, 'the gateway dropping kv-quorum-3', 100)
      console.log('kv-quorum-3 killed (SIGKILL) and dropped by the gateway')
      // (2,2) first: the point is that it loses nothing; (3,1) last, as its writes must fail
      for (const s of [scenarios[1], scenarios[0], scenarios[2]] as Scenario[]) await run(s, 2)
    }
    await pool.close()
    console.log('\n' + table(rows))
  } finally {
    killAll()
    if (dataRoot !== undefined) rmSync(dataRoot, { recursive: true, force: true })
  }
}

await main()
