/**
 * `npm run bench:compute` — what the compute service's levers buy, measured on this machine.
 *
 * (a) In process: throughput of a fixed CPU task run inline on the event loop vs on a Piscina
 *     pool of 1, 2 and 4 threads, with the event-loop delay p99 meanwhile; then one compute
 *     instance saturated over HTTP with distinct misses while /healthz is polled.
 * (b) Through the gateway: req/s of compute-cache hits vs misses of a ~10 ms task, and of
 *     gateway-cache hits vs plain echo.
 * (c) Saturation-aware balancing: two compute instances, one with fewer worker threads
 *     (BENCH_SMALL_THREADS, 1) than the other (BENCH_BIG_THREADS, 2), loaded with distinct misses
 *     on as many connections as they have threads (BENCH_SAT_CONNECTIONS) through two gateways,
 *     `least-outstanding` vs `least-saturated` (compute's balancer), interleaved: req/s, p50/p99
 *     and the share the small instance got.
 *
 * Knobs (env): BENCH_DURATION_S (default 5), BENCH_CONNECTIONS (default 20), BENCH_TASKS (default 120),
 * BENCH_ROUNDS (default 3), BENCH_PARTS (default a,b,c), BENCH_SMALL_THREADS (1), BENCH_BIG_THREADS (2).
 */
import { availableParallelism, loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import autocannon, { type Request as CannonRequest } from 'autocannon'
import { request } from 'undici'
import { builtEntry, topology } from '../../topology.js'
import { TaskPool } from '../../services/compute/src/adapters/task-pool.js'
import { runTask, type TaskRequest } from '../../services/compute/src/core/tasks.js'
import { freePort } from '../../shared/testing/ports.js'
import { BenchCluster } from './harness.js'
import { percentile } from '../../shared/src/percentile.js'
import { integer, list, number } from '../../shared/src/config.js'
import { envKnobs } from '../cli.js'

const knobs = envKnobs({
  durationS: number('BENCH_DURATION_S', 5, { min: 0.1 }),
  connections: integer('BENCH_CONNECTIONS', 20, { min: 1 }),
  tasks: integer('BENCH_TASKS', 120, { min: 1 }),
  rounds: integer('BENCH_ROUNDS', 3, { min: 1 }),
  parts: list('BENCH_PARTS', ['a', 'b', 'c'], { choices: ['a', 'b', 'c'] }),
  smallThreads: integer('BENCH_SMALL_THREADS', 1, { min: 1 }),
  bigThreads: integer('BENCH_BIG_THREADS', 2, { min: 1 }),
  satConnections: integer('BENCH_SAT_CONNECTIONS', 0, { min: 0 })
})
const { durationS, connections, tasks } = knobs
/** Each mode of (a) runs this many times and keeps its best round: other load on the machine only ever slows a round down. */
const rounds = knobs.rounds
/** Which parts to run: a (in process), b (through the gateway), c (saturation-aware balancing). */
const parts = knobs.parts
/** ~10 ms of sieve on this machine's cores. */
const fixedTask: TaskRequest = { task: 'primes', params: { limit: 4_000_000 } }

const cluster = new BenchCluster({ prefix: 'bench-compute' })

// stop() removes the cluster's temporary directory once its Redis has stopped: awaited before exiting
process.once('SIGINT', () => { void cluster.stop().finally(() => process.exit(130)) })

async function spawnReady (entry: string, extra: Record<string, string>, readyMsg: string): Promise<string> {
  return (await cluster.spawn(entry, extra, readyMsg)).url
}

async function startCompute (id: string, extra: Record<string, string> = {}): Promise<string> {
  return await spawnReady(builtEntry(topology.services.compute), { INSTANCE_ID: id, ...extra }, 'service ready')
}

const ms = (ns: number): string => (ns / 1e6).toFixed(1)

/** (a1) inline vs pool: tasks/s and the event loop's delay p99 while they run. */
async function poolScaling (): Promise<Array<Record<string, string | number>>> {
  const rows: Array<Record<string, string | number>> = []
  const measure = async (label: string, run: () => Promise<void>): Promise<void> => {
    let best = { rps: 0, p99: 0 }
    for (let round = 0; round < rounds; round++) {
      const eld = monitorEventLoopDelay({ resolution: 1 })
      // a timer that keeps the loop ticking, so a blocked loop shows up as delay
      const tick = setInterval(() => {}, 1)
      eld.enable()
      const t0 = performance.now()
      await run()
      const s = (performance.now() - t0) / 1_000
      eld.disable()
      clearInterval(tick)
      if (tasks / s > best.rps) best = { rps: tasks / s, p99: eld.percentile(99) }
    }
    rows.push({ mode: label, 'tasks/s': Math.round(best.rps), 'loop delay p99 ms': ms(best.p99) })
  }
  await measure('inline (event loop)', async () => {
    for (let i = 0; i < tasks; i++) {
      runTask(fixedTask)
      // yield between tasks as a server would between requests
      await new Promise((resolve) => setImmediate(resolve))
    }
  })
  for (const threads of [1, 2, 4]) {
    const pool = new TaskPool({ threads, maxQueue: tasks, taskTimeoutMs: 60_000 })
    await Promise.all(Array.from({ length: threads }, async () => await pool.run(fixedTask))) // warm the threads
    await measure(`piscina ${threads} thread${threads > 1 ? 's' : ''}`, async () => {
      await Promise.all(Array.from({ length: tasks }, async () => await pool.run(fixedTask)))
    })
    await pool.close()
  }
  const one = Number(rows[1]!['tasks/s'])
  for (const row of rows) row['× 1 thread'] = (Number(row['tasks/s']) / one).toFixed(2)
  return rows
}

async function cannon (url: string, opts: { headers?: Record<string, string>, distinctPath?: (i: number) => string, connections?: number } = {}): Promise<{ rps: number, p50: number, p99: number, non2xx: number, errors: number }> {
  let i = 0
  const result = await autocannon({
    url,
    connections: opts.connections ?? connections,
    duration: durationS,
    headers: opts.headers ?? {},
    ...(opts.distinctPath === undefined
      ? {}
      : { requests: [{ setupRequest: (req: CannonRequest) => ({ ...req, path: opts.distinctPath!(i++) }) }] })
  })
  return { rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors }
}

/** (a2) one instance saturated with distinct misses over HTTP; /healthz polled every 10 ms meanwhile. */
async function healthWhileSaturated (): Promise<Record<string, string | number>> {
  const url = await startCompute('bench-sat', { COMPUTE_MAX_QUEUE: '1000', COMPUTE_JOBS: 'false' })
  const latencies: number[] = []
  const state = { polling: true }
  const poller = (async () => {
    while (state.polling) {
      const t0 = performance.now()
      const res = await request(`${url}/healthz`)
      await res.body.dump()
      latencies.push(performance.now() - t0)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
  const load = await cannon(`${url}/primes`, { distinctPath: (i) => `/primes?limit=${4_000_000 + i}`, connections: 16 })
  state.polling = false
  await poller
  const pct = (q: number): string => (latencies.length === 0 ? 0 : percentile(latencies, q)).toFixed(1)
  return { 'misses req/s': load.rps, 'miss p99 ms': load.p99, 'healthz samples': latencies.length, 'healthz p50 ms': pct(0.5), 'healthz p99 ms': pct(0.99), 'healthz max ms': pct(1) }
}

async function settle (): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_000))
}

/** (b) through the gateway: compute-cache hits vs misses, gateway-cache hits vs echo. */
async function throughGateway (): Promise<Array<Record<string, string | number>>> {
  await Promise.all([startCompute('compute-1'), startCompute('compute-2'), spawnReady(builtEntry(topology.services.echo), { INSTANCE_ID: 'echo-1' }, 'service ready'), spawnReady(builtEntry(topology.services.echo), { INSTANCE_ID: 'echo-2' }, 'service ready')])
  const port = await freePort()
  await spawnReady('dist/gateway/src/server.js', { PORT: String(port) }, 'gateway ready')
  const gw = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    const res = await request(`${gw}/readyz`)
    await res.body.dump()
    if (res.statusCode === 200) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const bypass = { 'cache-control': 'no-cache' } // skip the gateway cache: the service's own cache is measured
  await (await request(`${gw}/api/compute/primes?limit=4000000`)).body.dump()
  // hits first: cancelled misses leave threads being replaced for a moment after their run
  const hits = await cannon(`${gw}/api/compute/primes?limit=4000000`, { headers: bypass })
  await settle()
  const gatewayHits = await cannon(`${gw}/api/compute/primes?limit=4000000`)
  await settle()
  const echo = await cannon(`${gw}/api/echo/bench`)
  await settle()
  const misses = await cannon(`${gw}/api/compute/primes`, { headers: bypass, distinctPath: (i) => `/api/compute/primes?limit=${5_000_000 + i}` })
  return [
    { scenario: 'compute misses (~10 ms, distinct limits)', 'req/s': misses.rps, 'p50 ms': misses.p50, 'p99 ms': misses.p99, non2xx: misses.non2xx },
    { scenario: 'compute-cache hits (LRU)', 'req/s': hits.rps, 'p50 ms': hits.p50, 'p99 ms': hits.p99, non2xx: hits.non2xx },
    { scenario: 'gateway-cache hits', 'req/s': gatewayHits.rps, 'p50 ms': gatewayHits.p50, 'p99 ms': gatewayHits.p99, non2xx: gatewayHits.non2xx },
    { scenario: 'echo (no cache)', 'req/s': echo.rps, 'p50 ms': echo.p50, 'p99 ms': echo.p99, non2xx: echo.non2xx },
    { scenario: 'ratios', 'req/s': `hits/misses ${(hits.rps / misses.rps).toFixed(1)}×, gateway hits/echo ${(gatewayHits.rps / echo.rps).toFixed(2)}×` }
  ]
}

/** (c) least-outstanding vs least-saturated over two compute instances of unequal thread counts. */
async function saturationAware (): Promise<Array<Record<string, string | number>>> {
  const small = knobs.smallThreads
  const big = knobs.bigThreads
  // as many requests at once as there are threads in all: enough to fill both pools if spread by
  // threads, so spreading them evenly queues some behind the small pool while the big one idles
  const satConnections = knobs.satConnections > 0 ? knobs.satConnections : small + big
  // a registry of its own: the instances of (b) are not part of this comparison
  const env = { NINES_PREFIX: 'bench-compute-saturation', COMPUTE_JOBS: 'false' }
  await Promise.all([
    startCompute('compute-small', { ...env, COMPUTE_THREADS: String(small) }),
    startCompute('compute-big', { ...env, COMPUTE_THREADS: String(big) })
  ])
  const modes = ['least-outstanding', 'least-saturated']
  const gateways = new Map<string, string>()
  for (const balancer of modes) {
    const port = await freePort()
    await spawnReady('dist/gateway/src/server.js', { ...env, PORT: String(port), NINES_SERVICES: 'compute', GW_BALANCERS: `compute=${balancer}`, GW_HEDGE: 'off' }, 'gateway ready')
    gateways.set(balancer, `http://127.0.0.1:${port}`)
  }
  for (const gw of gateways.values()) {
    for (let i = 0; i < 100; i++) {
      const res = await request(`${gw}/readyz`)
      await res.body.dump()
      if (res.statusCode === 200) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const picks = async (gw: string): Promise<Record<string, number>> => {
    const text = await (await request(`${gw}/metrics`)).body.text()
    const out: Record<string, number> = {}
    for (const m of text.matchAll(/^gateway_balancer_picks_total\{[^}]*instance="([^"]+)"[^}]*\} (\d+)/gm)) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2])
    return out
  }
  // every request a distinct limit, across rounds and gateways: always a miss, always CPU work
  let distinct = 0
  const bypass = { 'cache-control': 'no-cache' }
  const acc = new Map(modes.map((m) => [m, { rps: [] as number[], p50: [] as number[], p99: [] as number[], non2xx: 0, small: 0, total: 0 }]))
  for (let round = 0; round < rounds; round++) {
    for (const balancer of modes) {
      const gw = gateways.get(balancer)!
      const before = await picks(gw)
      const r = await cannon(`${gw}/api/compute/primes`, { headers: bypass, connections: satConnections, distinctPath: () => `/api/compute/primes?limit=${6_000_000 + distinct++}` })
      const after = await picks(gw)
      const a = acc.get(balancer)!
      a.rps.push(r.rps)
      a.p50.push(r.p50)
      a.p99.push(r.p99)
      a.non2xx += r.non2xx
      a.small += (after['compute-small'] ?? 0) - (before['compute-small'] ?? 0)
      a.total += Object.keys(after).reduce((n, k) => n + (after[k] ?? 0) - (before[k] ?? 0), 0)
      await settle()
    }
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  const rows = modes.map((balancer) => {
    const a = acc.get(balancer)!
    return { balancer, 'req/s': Math.round(mean(a.rps)), 'p50 ms': mean(a.p50).toFixed(1), 'p99 ms': mean(a.p99).toFixed(1), [`share to the ${small}-thread instance`]: `${(100 * a.small / Math.max(1, a.total)).toFixed(1)} %`, non2xx: a.non2xx }
  })
  const gain = Number(rows[1]!['req/s']) / Math.max(1, Number(rows[0]!['req/s']))
  return [...rows, { balancer: 'least-saturated / least-outstanding', 'req/s': `${gain.toFixed(2)}×` }]
}

try {
  console.log(`compute benchmark: ${availableParallelism()} cores, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${durationS} s per load, ${connections} connections, best of ${rounds} rounds of ${tasks} tasks of primes(4e6)`)
  console.log('(figures are only meaningful on an otherwise idle machine: compare the load average with the cores)\n')
  if (parts.includes('a')) {
    console.log('(a) fixed CPU task: inline vs Piscina')
    console.table(await poolScaling())
  }
  await cluster.startRedis()
  if (parts.includes('a')) {
    console.log('(a) /healthz of an instance saturated with distinct misses (16 connections)')
    console.table([await healthWhileSaturated()])
  }
  if (parts.includes('b')) {
    console.log('(b) through the gateway')
    console.table(await throughGateway())
  }
  if (parts.includes('c')) {
    console.log(`(c) saturation-aware balancing: one instance with fewer worker threads, distinct ~12 ms misses, as many connections as threads in all, ${rounds} interleaved rounds`)
    console.table(await saturationAware())
  }
} finally {
  await cluster.stop()
}
process.exit(0)
