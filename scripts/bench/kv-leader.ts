import { Agent, request } from 'undici'
import { integer, list, oneOf } from '../../shared/src/config.js'
import { percentile } from '../../shared/src/percentile.js'
import { waitFor } from '../../shared/testing/wait.js'
import { envKnobs } from '../cli.js'
import { BenchCluster, type BenchProcess } from './harness.js'

/**
 * `npm run bench:kv-leader`: three kv-leader replicas behind one gateway on a private Redis.
 * 1. For each acknowledgement mode: writes/s and reads/s through the gateway, p50/p99.
 * 2. Failover: kill -9 the leader BENCH_KILLS times under a steady stream of writes; the time
 *    from the kill to the first acknowledged write served by another replica, p50/p99; then
 *    every acknowledged write is read back: the number lost must be 0.
 * Knobs (env): BENCH_DURATION_S (5), BENCH_CONNECTIONS (32), BENCH_KILLS (12), BENCH_FSYNC (always),
 * BENCH_VALUE_BYTES (100), BENCH_MODES (async,majority,all), BENCH_ROUNDS (3: the modes are
 * interleaved round after round and the median round is shown, so a busy machine skews them alike).
 */
const { durationS, connections, kills, valueBytes, fsync, modes, rounds } = envKnobs({
  durationS: integer('BENCH_DURATION_S', 5, { min: 1 }),
  connections: integer('BENCH_CONNECTIONS', 32, { min: 1 }),
  kills: integer('BENCH_KILLS', 12, { min: 0 }),
  valueBytes: integer('BENCH_VALUE_BYTES', 100, { min: 1 }),
  fsync: oneOf('BENCH_FSYNC', ['always', 'interval', 'never'], 'always'),
  modes: list('BENCH_MODES', ['async', 'majority', 'all'], { choices: ['async', 'majority', 'all'] }),
  rounds: integer('BENCH_ROUNDS', 3, { min: 1 })
})
const ids = ['kv-leader-1', 'kv-leader-2', 'kv-leader-3']

/** The three replicas and a gateway on the bench harness, with a durable Redis as the launcher's. */
class Cluster {
  readonly #bench: BenchCluster
  readonly nodes = new Map<string, BenchProcess>()
  gateway!: BenchProcess

  constructor (env: Record<string, string>) {
    this.#bench = new BenchCluster({ prefix: 'bench-kvl', env: { KV_FSYNC: fsync, ...env } })
  }

  async start (): Promise<void> {
    await this.#bench.startRedis()
    await Promise.all(ids.map(async (id) => { await this.startNode(id) }))
    this.gateway = await this.#bench.startGateway({ NINES_SERVICES: 'kv-leader' })
    await this.waitForLeader()
    // the gateway must see the leader too
    await waitFor(async () => (await put(`${this.gateway.url}/api/kv-leader/keys/warm`, 'w')).status < 300, 10_000, 'a write through the gateway', 20)
  }

  async startNode (id: string): Promise<void> {
    this.nodes.set(id, await this.#bench.startService('kv-leader', { INSTANCE_ID: id, KV_DATA_DIR: this.#bench.dir(id) }))
  }

  async status (id: string): Promise<{ role: string, epoch: number, lastIndex: number, commitIndex: number, appliedIndex: number }> {
    const res = await request(`${this.nodes.get(id)!.url}/internal/status`, { headersTimeout: 1_000, bodyTimeout: 1_000 })
    return await res.body.json() as { role: string, epoch: number, lastIndex: number, commitIndex: number, appliedIndex: number }
  }

  /** The newest epoch any replica knows: how many elections happened, compared before and after. */
  async epoch (): Promise<number> {
    const epochs = await Promise.all(ids.map(async (id) => await this.status(id).then((s) => s.epoch, () => 0)))
    return Math.max(...epochs)
  }

  async waitForLeader (): Promise<string> {
    let leader = ''
    await waitFor(async () => {
      const roles = await Promise.all(ids.map(async (id) => await this.status(id).then((s) => s.role, () => 'down')))
      const leaders = ids.filter((_, i) => roles[i] === 'leader')
      leader = leaders[0] ?? ''
      return leaders.length === 1
    }, 15_000, 'one leader', 20)
    return leader
  }

  async stop (): Promise<void> {
    await this.#bench.stop()
  }
}

const agent = new Agent({ connections: 256 })

async function put (url: string, value: string): Promise<{ status: number, instance: string }> {
  const res = await request(url, { method: 'PUT', body: value, dispatcher: agent, headersTimeout: 5_000, bodyTimeout: 5_000 })
  await res.body.dump()
  return { status: res.statusCode, instance: String(res.headers['x-instance-id'] ?? '') }
}

interface Figures { rps: number, p50: number, p99: number, ok: number, failed: number, elections: number }

/** `connections` closed loops for `durationS`; latency of every 2xx answer. */
async function load (makeRequest: (conn: number, i: number) => Promise<number>): Promise<Figures> {
  const latencies: number[] = []
  let failed = 0
  const end = performance.now() + durationS * 1000
  await Promise.all(Array.from({ length: connections }, async (_, conn) => {
    for (let i = 0; performance.now() < end; i++) {
      const t0 = performance.now()
      const status = await makeRequest(conn, i).catch(() => 0)
      if (status >= 200 && status < 300) latencies.push(performance.now() - t0)
      else failed++
    }
  }))
  return { rps: latencies.length / durationS, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), ok: latencies.length, failed, elections: 0 }
}

async function throughput (mode: string): Promise<{ writes: Figures, reads: Figures, eventual: Figures }> {
  const cluster = new Cluster({ KV_ACK_MODE: mode })
  try {
    await cluster.start()
    const api = `${cluster.gateway.url}/api/kv-leader/keys`
    const value = 'v'.repeat(valueBytes)
    const get = async (url: string): Promise<number> => {
      const res = await request(url, { dispatcher: agent, headersTimeout: 5_000, bodyTimeout: 5_000 })
      await res.body.dump()
      return res.statusCode
    }
    // a loaded machine can starve a leader past its lease: count the elections each load saw
    const measured = async (run: () => Promise<Figures>): Promise<Figures> => {
      const before = await cluster.epoch()
      const figures = await run()
      return { ...figures, elections: (await cluster.epoch()) - before }
    }
    const writes = await measured(async () => await load(async (conn, i) => (await put(`${api}/b-${conn}-${i % 20}`, value)).status))
    const reads = await measured(async () => await load(async (conn, i) => await get(`${api}/b-${conn}-${i % 20}`)))
    const eventual = await measured(async () => await load(async (conn, i) => await get(`${api}/b-${conn}-${i % 20}?consistency=eventual`)))
    return { writes, reads, eventual }
  } finally {
    await cluster.stop()
  }
}

async function failover (): Promise<{ times: number[], acked: number, lost: number, failedTries: number }> {
  const cluster = new Cluster({ KV_ACK_MODE: 'majority' })
  try {
    await cluster.start()
    const api = `${cluster.gateway.url}/api/kv-leader/keys`
    const acked = new Map<string, string>()
    const okAt: Array<{ at: number, instance: string }> = []
    let failedTries = 0
    const flag = { running: true }
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let seq = 0; flag.running; seq++) {
        const key = `f-${w}-${seq}`
        const value = `${w}:${seq}`
        const res = await put(`${api}/${key}`, value).catch(() => ({ status: 0, instance: '' }))
        if (res.status >= 200 && res.status < 300) {
          acked.set(key, value)
          okAt.push({ at: performance.now(), instance: res.instance })
        } else {
          failedTries++
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
      }
    })
    const times: number[] = []
    for (let k = 0; k < kills; k++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      const leader = await cluster.waitForLeader()
      const killedAt = performance.now()
      cluster.nodes.get(leader)!.child.kill('SIGKILL')
      await waitFor(() => okAt.some((o) => o.at > killedAt && o.instance !== leader), 15_000, 'a write acknowledged by another replica', 20)
      const first = okAt.find((o) => o.at > killedAt && o.instance !== leader)!
      times.push(first.at - killedAt)
      okAt.length = 0
      await cluster.startNode(leader)
      const next = await cluster.waitForLeader()
      await waitFor(async () => {
        const [a, b] = await Promise.all([cluster.status(leader), cluster.status(next)])
        return a.appliedIndex >= b.commitIndex - 50
      }, 15_000, `${leader} caught up`, 20)
      process.stderr.write(`kill ${k + 1}/${kills}: ${leader} → ${next} in ${times.at(-1)!.toFixed(0)} ms\n`)
    }
    flag.running = false
    await Promise.all(writers)
    let lost = 0
    for (const [key, value] of acked) {
      const res = await request(`${api}/${key}`, { dispatcher: agent })
      const body = await res.body.text()
      if (res.statusCode !== 200 || body !== value) lost++
    }
    return { times, acked: acked.size, lost, failedTries }
  } finally {
    await cluster.stop()
  }
}

const row = (name: string, f: Figures): string =>
  `  ${name.padEnd(22)} ${f.rps.toFixed(0).padStart(7)} ok/s   p50 ${f.p50.toFixed(2).padStart(7)} ms   p99 ${f.p99.toFixed(2).padStart(7)} ms   failed ${f.failed}   elections ${f.elections}`

const out: string[] = [`kv-leader benchmark: ${connections} connections, ${durationS} s per load, ${valueBytes}-byte values, fsync=${fsync}, ${rounds} interleaved rounds (median shown), node ${process.version}`]
const results = new Map<string, Array<Awaited<ReturnType<typeof throughput>>>>()
for (let round = 0; round < rounds; round++) {
  for (const mode of modes) {
    const r = await throughput(mode)
    results.set(mode, [...(results.get(mode) ?? []), r])
    process.stderr.write(`round ${round + 1} ack=${mode}: PUT ${r.writes.rps.toFixed(0)}/s, GET ${r.reads.rps.toFixed(0)}/s, eventual GET ${r.eventual.rps.toFixed(0)}/s\n`)
  }
}
const median = (xs: Figures[]): Figures => [...xs].sort((a, b) => a.rps - b.rps)[Math.floor(xs.length / 2)] as Figures
for (const [mode, rs] of results) {
  out.push(`ack=${mode}`, row('PUT (writes)', median(rs.map((r) => r.writes))), row('GET (leader, linearizable)', median(rs.map((r) => r.reads))), row('GET ?consistency=eventual', median(rs.map((r) => r.eventual))),
    `  (PUT ok/s per round: ${rs.map((r) => r.writes.rps.toFixed(0)).join(', ')})`)
}
if (kills > 0) {
  const f = await failover()
  const sorted = [...f.times].sort((a, b) => a - b)
  out.push(`failover over ${f.times.length} leader kills (kill -9 → first acknowledged write through the gateway), ack=majority, default lease timings:`,
    `  p50 ${percentile(sorted, 0.5).toFixed(0)} ms   p99 ${percentile(sorted, 0.99).toFixed(0)} ms   min ${sorted[0]?.toFixed(0)} ms   max ${sorted.at(-1)?.toFixed(0)} ms   (each: ${f.times.map((t) => t.toFixed(0)).join(', ')})`,
    `  acknowledged writes: ${f.acked}, lost: ${f.lost}, failed tries (not acknowledged, retried): ${f.failedTries}`)
}
await agent.close()
process.stdout.write(out.join('\n') + '\n')
