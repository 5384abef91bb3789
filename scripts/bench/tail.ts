/**
 * `npm run bench:tail` — what one slow instance does to the tail, with hedging off and on, and
 * what a newly started instance does to it, with slow start off and on.
 *
 * (1) Hedging: three echo instances behind two gateways that differ only in GW_HEDGE. Scenarios:
 *     healthy; `delay` (the third instance answers a share of its requests late: ECHO_SLOW_SHARE
 *     and ECHO_SLOW_MS); `freeze` (the third instance is frozen for 200 ms every 2 s, SIGSTOP and
 *     SIGCONT); `hog` (a busy loop pinned to the third instance's CPU). For each scenario, rounds of
 *     CONNECTIONS connections for DURATION seconds alternate between the two gateways; each row
 *     gives req/s, p50/p99/p99.9 and the extra tries the gateway sent (hedges and retries) as a
 *     share of requests.
 * (2) Slow start: two echo instances under load through one of two gateways (GW_SLOW_START_MS
 *     0 vs 5000, no hedging); after BASE_S seconds a new instance starts; the p99 over the
 *     slow-start window after it joined is compared with the p99 before.
 *
 * Latencies are every response's time as autocannon saw it (no histogram rounding).
 * Knobs (env): CONNECTIONS (50), DURATION (10), ROUNDS (2), SCENARIOS (healthy,delay,freeze,hog),
 * DELAY_SHARE (0.1), DELAY_MS (100), BASE_S (5), RAMP_MS (5000), SLOW_START (on: run part 2).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { request } from 'undici'
import { parsePrometheus } from '../../shared/testing/prometheus.js'
import { integer, list, number, oneOf } from '../../shared/src/config.js'
import { envKnobs } from '../cli.js'
import { BenchCluster, type BenchProcess } from './harness.js'
import { percentile } from '../../shared/src/percentile.js'

const knobs = envKnobs({
  connections: integer('CONNECTIONS', 50, { min: 1 }),
  durationS: number('DURATION', 10, { min: 0.1 }),
  rounds: integer('ROUNDS', 2, { min: 1 }),
  scenarios: list('SCENARIOS', ['healthy', 'delay', 'freeze', 'hog'], { choices: ['healthy', 'delay', 'freeze', 'hog'] }),
  delayShare: number('DELAY_SHARE', 0.1, { min: 0, max: 1 }),
  delayMs: integer('DELAY_MS', 100, { min: 0 }),
  baseS: number('BASE_S', 5, { min: 0.1 }),
  rampMs: integer('RAMP_MS', 5_000, { min: 0 }),
  slowStart: oneOf('SLOW_START', ['on', 'off'], 'on')
})
const { connections, durationS, rounds, scenarios, delayShare, delayMs, baseS, rampMs } = knobs
const slowStartPart = knobs.slowStart === 'on'

const cluster = new BenchCluster({ prefix: 'bench-tail' })
const cleanups: Array<() => void> = []
process.once('SIGINT', () => { for (const c of cleanups) c(); void cluster.stop().then(() => process.exit(130)) })

interface Sample { at: number, ms: number }

/** autocannon at `url`, recording every response's latency and when it came. */
async function loadRecorded (url: string, seconds: number, onStart?: () => void): Promise<{ samples: Sample[], errors: number, non2xx: number }> {
  const samples: Sample[] = []
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: seconds }, (err, result) => { if (err instanceof Error) reject(err); else resolve(result) })
    instance.on('response', (_client, _status, _bytes, ms) => { samples.push({ at: performance.now(), ms }) })
    onStart?.()
  })
  return { samples, errors: result.errors + result.timeouts, non2xx: result.non2xx }
}

function summary (samples: readonly Sample[]): { n: number, p50: number, p99: number, p999: number } {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b)
  return { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999) }
}

/** The gateway's counters for echo: requests answered, tries sent, hedges sent, won and refused. */
async function counters (gatewayUrl: string): Promise<{ requests: number, tries: number, hedges: number, won: number, paid: number, denied: number, paused: number }> {
  const res = await request(`${gatewayUrl}/metrics`)
  const samples = parsePrometheus(await res.body.text()).filter((s) => s.labels.service === 'echo')
  const sum = (name: string, labels: Record<string, string> = {}): number =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0)
  return { requests: sum('gateway_requests_total'), tries: sum('gateway_balancer_picks_total'), hedges: sum('gateway_hedges_total', { event: 'sent' }), won: sum('gateway_hedges_total', { event: 'won' }), paid: sum('gateway_hedges_total', { event: 'paid' }), denied: sum('gateway_hedges_total', { event: 'denied' }), paused: sum('gateway_hedges_total', { event: 'paused' }) }
}

async function echoCount (gatewayUrl: string): Promise<number> {
  const res = await request(`${gatewayUrl}/registry`)
  const body = await res.body.json() as { services: Record<string, Array<{ healthy: boolean }>> }
  return (body.services.echo ?? []).filter((i) => i.healthy).length
}

async function waitForEchoes (gateways: readonly BenchProcess[], n: number): Promise<void> {
  for (const gw of gateways) {
    for (let i = 0; (await echoCount(gw.url)) !== n; i++) {
      if (i > 200) throw new Error(`${gw.url} never saw ${n} echo instances`)
      await sleep(50)
    }
  }
}

async function stopGracefully (proc: BenchProcess): Promise<void> {
  if (proc.child.exitCode !== null) return
  const exited = new Promise((resolve) => proc.child.once('exit', resolve))
  proc.child.kill('SIGCONT')
  proc.child.kill('SIGTERM')
  await Promise.race([exited, sleep(10_000)])
}

const fmt = (ms: number): string => Number.isNaN(ms) ? '-' : ms.toFixed(ms < 10 ? 2 : 1)

/** Makes the third instance slow for one scenario; returns what undoes it. */
async function makeSlow (scenario: string, third: () => BenchProcess): Promise<() => void> {
  if (scenario === 'freeze') {
    // frozen for 200 ms every 2 s, for as long as the scenario runs
    let frozen = false
    const cycle = setInterval(() => {
      third().child.kill('SIGSTOP')
      frozen = true
      setTimeout(() => { third().child.kill('SIGCONT'); frozen = false }, 200)
    }, 2_000)
    return () => { clearInterval(cycle); if (frozen) third().child.kill('SIGCONT') }
  }
  if (scenario === 'hog') {
    const cpu = availableParallelism() - 1
    const hog: ChildProcess = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
    // the hog and the third instance (all its threads) share one CPU
    spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(hog.pid)], { stdio: 'ignore' })
    spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(third().pid)], { stdio: 'ignore' })
    const undo = (): void => { hog.kill('SIGKILL') }
    cleanups.push(undo)
    return undo
  }
  return () => {}
}

async function hedging (): Promise<void> {
  const base = { NINES_SERVICES: 'echo', GW_SLOW_START_MS: '0' }
  const modes = [
    { name: 'hedging off', gw: await cluster.startGateway({ ...base, GW_HEDGE: 'off' }) },
    { name: 'hedging on', gw: await cluster.startGateway({ ...base, GW_HEDGE: 'on' }) }
  ]
  const gateways = modes.map((m) => m.gw)
  const echoes = [await cluster.startService('echo', { INSTANCE_ID: 'echo-1' }), await cluster.startService('echo', { INSTANCE_ID: 'echo-2' })]
  let third: BenchProcess | undefined
  const healthyP99: Record<string, number> = {}
  process.stdout.write(`\n(1) one of three echo instances slow: ${rounds} interleaved rounds of ${durationS} s per mode, ${connections} connections\n`)
  for (const scenario of scenarios) {
    // the third instance as this scenario wants it (a fresh process, so no scenario inherits another's state)
    if (third !== undefined) await stopGracefully(third)
    third = await cluster.startService('echo', { INSTANCE_ID: 'echo-3', ...(scenario === 'delay' ? { ECHO_SLOW_SHARE: String(delayShare), ECHO_SLOW_MS: String(delayMs) } : {}) })
    await waitForEchoes(gateways, 3)
    for (const gw of gateways) await loadRecorded(`${gw.url}/api/echo/warm`, 2) // warm, and fill each gateway's latency window
    const current = third
    const undo = await makeSlow(scenario, () => current)
    const rows: Array<Record<string, string | number>> = []
    const byMode = new Map<string, { samples: Sample[], requests: number, tries: number, hedges: number, won: number, paid: number, denied: number, paused: number, errors: number, seconds: number }>()
    for (let r = 0; r < rounds; r++) {
      for (const mode of modes) {
        const before = await counters(mode.gw.url)
        const t0 = performance.now()
        const run = await loadRecorded(`${mode.gw.url}/api/echo/tail`, durationS)
        const seconds = (performance.now() - t0) / 1_000
        const after = await counters(mode.gw.url)
        const acc = byMode.get(mode.name) ?? { samples: [], requests: 0, tries: 0, hedges: 0, won: 0, paid: 0, denied: 0, paused: 0, errors: 0, seconds: 0 }
        // a loop, not push(...xs): a quiet machine records more samples than fit in one call's arguments
        for (const x of run.samples) acc.samples.push(x)
        acc.requests += after.requests - before.requests
        acc.tries += after.tries - before.tries
        acc.hedges += after.hedges - before.hedges
        acc.won += after.won - before.won
        acc.paid += after.paid - before.paid
        acc.denied += after.denied - before.denied
        acc.paused += after.paused - before.paused
        acc.errors += run.errors + run.non2xx
        acc.seconds += seconds
        byMode.set(mode.name, acc)
      }
    }
    undo()
    for (const [name, acc] of byMode) {
      const s = summary(acc.samples)
      if (scenario === 'healthy') healthyP99[name] = s.p99
      rows.push({
        mode: name,
        'req/s': Math.round(s.n / acc.seconds),
        'p50 ms': fmt(s.p50),
        'p99 ms': fmt(s.p99),
        'p99.9 ms': fmt(s.p999),
        'p99 ÷ healthy p99': healthyP99[name] !== undefined ? (s.p99 / healthyP99[name]!).toFixed(2) : '-',
        'extra tries %': (100 * (acc.tries / Math.max(1, acc.requests) - 1)).toFixed(2),
        'hedges %': (100 * acc.hedges / Math.max(1, acc.requests)).toFixed(2),
        // of the hedges sent, how many answered first, and how many of those cut a slow try short (hedgesPay)
        'won %': acc.hedges === 0 ? '-' : (100 * acc.won / acc.hedges).toFixed(0),
        'paid %': acc.hedges === 0 ? '-' : (100 * acc.paid / acc.hedges).toFixed(0),
        'denied by budget %': (100 * acc.denied / Math.max(1, acc.requests)).toFixed(2),
        // held back while the hedges did not win (hedgesPay)
        'hedges paused %': (100 * acc.paused / Math.max(1, acc.requests)).toFixed(2),
        errors: acc.errors
      })
    }
    process.stdout.write(`scenario ${scenario}${scenario === 'delay' ? ` (echo-3 answers ${delayShare * 100} % of its requests ${delayMs} ms late)` : scenario === 'freeze' ? ' (echo-3 frozen 200 ms every 2 s)' : scenario === 'hog' ? ' (a busy loop on echo-3\'s CPU)' : ''}\n`)
    console.table(rows)
  }
  if (third !== undefined) await stopGracefully(third)
  for (const e of echoes) await stopGracefully(e)
  for (const gw of gateways) await stopGracefully(gw)
}

async function slowStart (): Promise<void> {
  const base = { NINES_SERVICES: 'echo', GW_HEDGE: 'off' }
  const modes = [
    { name: 'slow start off', gw: await cluster.startGateway({ ...base, GW_SLOW_START_MS: '0' }) },
    { name: `slow start ${rampMs} ms`, gw: await cluster.startGateway({ ...base, GW_SLOW_START_MS: String(rampMs) }) }
  ]
  const gateways = modes.map((m) => m.gw)
  await cluster.startService('echo', { INSTANCE_ID: 'echo-a' })
  await cluster.startService('echo', { INSTANCE_ID: 'echo-b' })
  await waitForEchoes(gateways, 2)
  for (const gw of gateways) await loadRecorded(`${gw.url}/api/echo/warm`, 2)
  process.stdout.write(`\n(2) a new echo instance joins two under ${connections}-connection load: p99 over the ${rampMs} ms after it joined vs the ${baseS} s before; ${rounds} interleaved rounds\n`)
  const rows: Array<Record<string, string | number>> = []
  const acc = new Map<string, { before: Sample[], ramp: Sample[], newcomerShare: number[] }>()
  for (let r = 0; r < rounds; r++) {
    for (const mode of modes) {
      let joinedAt = Infinity
      let newcomer: BenchProcess | undefined
      const picks = async (): Promise<number> => {
        const res = await request(`${mode.gw.url}/metrics`)
        return parsePrometheus(await res.body.text()).filter((s) => s.name === 'gateway_balancer_picks_total' && s.labels.instance === `echo-new-${r}`).reduce((a, s) => a + s.value, 0)
      }
      const requests = async (): Promise<number> => (await counters(mode.gw.url)).requests
      let requestsAtJoin = 0
      const run = await loadRecorded(`${mode.gw.url}/api/echo/join`, baseS + rampMs / 1_000 + 1, () => {
        setTimeout(() => {
          void cluster.startService('echo', { INSTANCE_ID: `echo-new-${r}` }).then(async (p) => {
            newcomer = p
            await waitForEchoes([mode.gw], 3)
            joinedAt = performance.now()
            requestsAtJoin = await requests()
          })
        }, baseS * 1_000)
      })
      const served = await picks()
      const total = await requests() - requestsAtJoin
      const before = run.samples.filter((s) => s.at < joinedAt && s.at >= joinedAt - baseS * 1_000)
      const ramp = run.samples.filter((s) => s.at >= joinedAt && s.at < joinedAt + rampMs)
      const a = acc.get(mode.name) ?? { before: [], ramp: [], newcomerShare: [] }
      for (const x of before) a.before.push(x)
      for (const x of ramp) a.ramp.push(x)
      a.newcomerShare.push(served / Math.max(1, total))
      acc.set(mode.name, a)
      if (newcomer !== undefined) await stopGracefully(newcomer)
      await waitForEchoes(gateways, 2)
    }
  }
  for (const [name, a] of acc) {
    const before = summary(a.before)
    const ramp = summary(a.ramp)
    rows.push({
      mode: name,
      'p99 before ms': fmt(before.p99),
      'p99 ramp ms': fmt(ramp.p99),
      'p99 change %': (100 * (ramp.p99 / before.p99 - 1)).toFixed(1),
      'p99.9 before ms': fmt(before.p999),
      'p99.9 ramp ms': fmt(ramp.p999),
      'newcomer share after join %': (100 * a.newcomerShare.reduce((x, y) => x + y, 0) / a.newcomerShare.length).toFixed(1)
    })
  }
  console.table(rows)
}

try {
  process.stdout.write(`tail benchmark: ${availableParallelism()} cores, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`)
  process.stdout.write('(figures are only meaningful on an otherwise idle machine)\n')
  await cluster.startRedis()
  if (scenarios.length > 0) await hedging()
  if (slowStartPart) await slowStart()
} finally {
  for (const c of cleanups) c()
  await cluster.stop()
}
process.exit(0)
