/**
 * `npm run bench:pairs`: the redundant pairs, measured end to end on this machine.
 *   (a) events/s from feed to sink for both pairs, autocannon posting events through the gateway;
 *   (b) hot-warm takeover after kill -9 of the hot: kill → first output accepted under the new epoch;
 *   (c) the same after SIGSTOP of the hot (the lease must expire: no connection loss to see);
 *   (d) hot-hot: the longest output stall around a kill -9 of one member, against the baseline.
 * Then verify: 0 missing, 0 conflicts for both pairs over everything that ran.
 * Knobs (env): DURATION (s, 10), CONNECTIONS (50), PIPELINING (1), KILLS (10), FREEZES (10), HH_KILLS (3).
 * Lease timings are the service defaults unless LEDGER_LEASE_* are set in the environment.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { builtEntry, topology } from '../../topology.js'
import { leaseKeys } from '../../shared/src/lease/redis-lease.js'
import { pipelineKeys } from '../../shared/src/pipeline/keys.js'
import { verifyPairsEventually } from '../../shared/src/pipeline/verify.js'

const root = resolve(import.meta.dirname, '../../..')
const duration = Number(process.env.DURATION ?? 10)
const connections = Number(process.env.CONNECTIONS ?? 50)
const pipelining = Number(process.env.PIPELINING ?? 1)
const kills = Number(process.env.KILLS ?? 10)
const freezes = Number(process.env.FREEZES ?? 10)
const hhKills = Number(process.env.HH_KILLS ?? 3)
const prefix = 'bench-pairs'

interface Proc { id: string, child: ChildProcess, url: string }
const children = new Set<ChildProcess>()
process.once('exit', () => { for (const c of children) { try { c.kill('SIGCONT'); c.kill('SIGKILL') } catch {} } })

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)) })
  })
}

function spawnTracked (cmd: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

async function waitLine (child: ChildProcess, msg: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${msg}"`)), timeoutMs)
    const rl = createInterface({ input: child.stdout! })
    rl.on('line', (line) => {
      if (!line.startsWith('{')) return
      try {
        const e = JSON.parse(line) as Record<string, unknown>
        if (e.msg === msg) { clearTimeout(timer); rl.removeAllListeners('line'); child.stdout?.resume(); resolve(e) }
      } catch {}
    })
    child.once('exit', () => { clearTimeout(timer); reject(new Error(`exited before "${msg}"`)) })
  })
}

async function startService (service: keyof typeof topology.services, id: string, env: Record<string, string>): Promise<Proc> {
  const entry = resolve(root, builtEntry(topology.services[service]))
  const child = spawnTracked(process.execPath, [entry], { INSTANCE_ID: id, LOG_LEVEL: 'info', ...env })
  const errors: string[] = []
  child.stderr?.on('data', (d: Buffer) => { if (errors.length < 20) errors.push(d.toString()) })
  const ready = await waitLine(child, 'service ready').catch((err: Error) => { throw new Error(`${id}: ${err.message}\n${errors.join('')}`) })
  child.stdout?.resume()
  return { id, child, url: String(ready.url) }
}

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN
}

async function main (): Promise<void> {
  const redisPort = await freePort()
  const redisChild = spawnTracked('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {})
  redisChild.stdout?.resume()
  redisChild.stderr?.resume()
  const redisUrl = `redis://127.0.0.1:${redisPort}`
  const redis = new Redis(redisUrl, { retryStrategy: (n) => Math.min(n * 50, 500) })
  redis.on('error', () => {})
  await new Promise((resolve) => redis.once('ready', resolve))
  const env = { REDIS_URL: redisUrl, NINES_PREFIX: prefix }
  const keys = pipelineKeys(prefix)
  const [, , ...feeds] = await Promise.all([startService('sink', 'sink-1', env), startService('sink', 'sink-2', env), startService('feed', 'feed-1', env), startService('feed', 'feed-2', env)])
  const gwPort = await freePort()
  const gw = spawnTracked(process.execPath, [resolve(root, 'dist/gateway/src/server.js')], { ...env, PORT: String(gwPort), LOG_LEVEL: 'info' })
  gw.stderr?.resume()
  await waitLine(gw, 'gateway ready')
  gw.stdout?.resume()
  const gateway = `http://127.0.0.1:${gwPort}`
  const ledgers = new Map<string, Proc>()
  const startLedger = async (id: string): Promise<Proc> => {
    const pair = id.startsWith('ledger-hh') ? 'hot-hot' : 'hot-warm'
    const p = await startService(pair === 'hot-hot' ? 'ledger-hh' : 'ledger-hw', id, { ...env, LEDGER_PAIR: pair })
    ledgers.set(id, p)
    return p
  }
  await Promise.all(['ledger-hh-a', 'ledger-hh-b', 'ledger-hw-a', 'ledger-hw-b'].map(startLedger))
  const hw = async (field: string): Promise<number> => Number(await redis.hget(keys.pair('hot-warm').stats, field) ?? -1)
  const outputsOf = async (pair: 'hot-hot' | 'hot-warm'): Promise<number> => Number(await redis.hget(keys.pair(pair).stats, 'outputs') ?? 0)
  const hotOf = async (): Promise<string | undefined> => {
    const reg = await (await request(`${gateway}/registry`)).body.json() as { services: Record<string, Array<{ id: string, role: string }>> }
    return reg.services['ledger-hw']?.find((i) => i.role === 'hot')?.id
  }
  while (await hotOf() === undefined) await sleep(50)
  const waitRebuilt = async (p: Proc): Promise<void> => {
    for (;;) {
      try { if ((await (await request(`${p.url}/status`)).body.json() as { rebuilt: boolean }).rebuilt) return } catch {}
      await sleep(50)
    }
  }

  // (a) throughput: autocannon through the gateway, then straight at one feed instance
  const waitDrained = async (t0: number): Promise<{ inputs: number, doneAt: number }> => {
    const inputs = await redis.xlen(keys.feed)
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(10)) {
      if (await outputsOf('hot-hot') >= inputs && await outputsOf('hot-warm') >= inputs) return { inputs, doneAt: Date.now() }
    }
    return { inputs, doneAt: Math.max(Date.now(), t0) }
  }
  const load = async (label: string, url: string): Promise<Record<string, number | string>> => {
    console.log(`(a) ${label}: autocannon ${connections} connections, pipelining ${pipelining}, ${duration} s → POST ${url}`)
    const epochBefore = await hw('epoch')
    const inputsBefore = await redis.xlen(keys.feed)
    const t0 = Date.now()
    let n = 0
    const result = await autocannon({
      url,
      connections,
      pipelining,
      duration,
      requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ account: `acct-${n++ % 100}`, amount: (n % 11) - 5 }) }) }]
    })
    const { inputs, doneAt } = await waitDrained(t0)
    const r = { via: label, accepted202: result['2xx'], non2xx: result.non2xx, errors: result.errors, reqPerS: Math.round(result.requests.average), latencyP50Ms: result.latency.p50, latencyP99Ms: result.latency.p99, endToEndEventsPerS: Math.round((inputs - inputsBefore) / ((doneAt - t0) / 1000)), drainAfterLoadMs: doneAt - t0 - duration * 1000, falseTakeoversUnderLoad: (await hw('epoch')) - epochBefore }
    console.log(r)
    return r
  }
  const throughput = [await load('gateway', `${gateway}/api/feed/events`), await load('feed-direct', `${feeds[0]?.url ?? ''}/events`)]
  // the pipeline alone (feed stream → both pairs → sink), without HTTP ingestion: a backlog appended straight to the stream
  const backlog = Number(process.env.BACKLOG ?? 50_000)
  const tb = Date.now()
  for (let i = 0; i < backlog; i += 1_000) {
    const pipe = redis.pipeline()
    for (let j = i; j < Math.min(backlog, i + 1_000); j++) pipe.xadd(keys.feed, '*', 'account', `b-${j % 100}`, 'amount', String((j % 11) - 5))
    await pipe.exec()
  }
  const appendedMs = Date.now() - tb
  const drained = await waitDrained(tb)
  const pipeline = { backlog, appendMs: appendedMs, drainMs: drained.doneAt - tb, pipelineEventsPerS: Math.round(backlog / ((drained.doneAt - tb) / 1000)) }
  console.log('(a) pipeline only (stream → ledgers → sink, both pairs):', pipeline)

  // a steady trickle of events during the failure runs, so there is always something to emit
  const trickle = { running: true, sent: 0 }
  const trickleLoop = (async () => {
    let i = 0
    while (trickle.running) {
      try { await (await request(`${gateway}/api/feed/events`, { method: 'POST', body: JSON.stringify({ account: `t-${i++ % 10}`, amount: 1 }), headers: { 'content-type': 'application/json' } })).body.dump(); trickle.sent++ } catch {}
      await sleep(2)
    }
  })()

  const takeover = async (signal: 'SIGKILL' | 'SIGSTOP'): Promise<number> => {
    // the hot is the lease holder whose epoch the sink has accepted outputs under
    let hot: string | undefined
    for (const deadline = Date.now() + 10_000; hot === undefined; await sleep(20)) {
      if (Date.now() > deadline) throw new Error('no established hot in the hot-warm pair')
      const [owner, epoch] = await redis.hmget(leaseKeys(prefix, 'ledger:hot-warm').lease, 'owner', 'epoch')
      if (owner !== null && owner !== undefined && Number(epoch) === await hw('acceptedEpoch')) hot = owner.slice(0, owner.lastIndexOf(':'))
    }
    const proc = ledgers.get(hot) as Proc
    process.stderr.write(`  ${signal} ${hot} … `)
    const accepted = await hw('acceptedEpoch')
    const start = Date.now()
    proc.child.kill(signal)
    for (const deadline = Date.now() + 15_000; await hw('acceptedEpoch') <= accepted; await sleep(2)) {
      if (Date.now() > deadline) throw new Error(`no takeover within 15 s of ${signal} to ${hot}`)
    }
    const ms = (await hw('acceptedEpochAt')) - start
    process.stderr.write(`${ms} ms\n`)
    if (signal === 'SIGKILL') {
      await new Promise((resolve) => proc.child.exitCode !== null || proc.child.signalCode !== null ? resolve(null) : proc.child.once('exit', resolve))
      await waitRebuilt(await startLedger(hot))
    } else {
      proc.child.kill('SIGCONT')
    }
    await sleep(300) // let the pair settle (the old hot sees it is warm) before the next round
    return ms
  }
  const killMs: number[] = []
  for (let i = 0; i < kills; i++) killMs.push(await takeover('SIGKILL'))
  console.log(`(b) kill -9 takeover over ${kills}: p50 ${percentile(killMs, 50)} ms, p99 ${percentile(killMs, 99)} ms, max ${Math.max(...killMs)} ms`, killMs)
  const freezeMs: number[] = []
  for (let i = 0; i < freezes; i++) freezeMs.push(await takeover('SIGSTOP'))
  console.log(`(c) SIGSTOP takeover over ${freezes}: p50 ${percentile(freezeMs, 50)} ms, p99 ${percentile(freezeMs, 99)} ms, max ${Math.max(...freezeMs)} ms`, freezeMs)

  // (d) hot-hot: longest time without a new stored output, before and around a kill -9
  const longestStall = async (ms: number, during?: () => void): Promise<number> => {
    const end = Date.now() + ms
    let last = await outputsOf('hot-hot')
    let since = Date.now()
    let worst = 0
    let fired = false
    while (Date.now() < end) {
      if (!fired && during !== undefined && Date.now() > end - ms / 2) { fired = true; during() }
      const now = await outputsOf('hot-hot')
      if (now > last) { last = now; since = Date.now() }
      worst = Math.max(worst, Date.now() - since)
      await sleep(5)
    }
    return worst
  }
  const hh: Array<{ baselineMs: number, aroundKillMs: number }> = []
  for (let i = 0; i < hhKills; i++) {
    const victim = i % 2 === 0 ? 'ledger-hh-a' : 'ledger-hh-b'
    const baselineMs = await longestStall(1_000)
    const aroundKillMs = await longestStall(1_000, () => { ledgers.get(victim)?.child.kill('SIGKILL') })
    await waitRebuilt(await startLedger(victim))
    hh.push({ baselineMs, aroundKillMs })
  }
  console.log('(d) hot-hot longest output stall (ms):', hh)

  trickle.running = false
  await trickleLoop
  const report = await verifyPairsEventually(redis, prefix, 15_000)
  console.table(report.pairs.map(({ examples, ...r }) => r))
  console.log(JSON.stringify({
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    throughput,
    pipeline,
    killTakeoverMs: { runs: kills, p50: percentile(killMs, 50), p99: percentile(killMs, 99), max: Math.max(...killMs) },
    freezeTakeoverMs: { runs: freezes, p50: percentile(freezeMs, 50), p99: percentile(freezeMs, 99), max: Math.max(...freezeMs) },
    hotHotStallMs: hh,
    verify: report.pairs.map((p) => ({ pair: p.pair, inputs: p.inputs, missing: p.missing, conflicts: p.conflicts, duplicatesStored: p.duplicatesStored, staleEpochRejected: p.staleEpochRejected, ok: p.ok }))
  }, null, 2))
  redis.disconnect()
  process.exitCode = report.ok ? 0 : 1
}

try {
  await main()
} finally {
  for (const c of children) { try { c.kill('SIGCONT'); c.kill('SIGKILL') } catch {} }
}
