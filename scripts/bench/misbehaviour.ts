import { request } from 'undici'
import { integer, number } from '../../shared/src/config.js'
import { envKnobs } from '../cli.js'
import { BenchCluster, load, type LoadFigures } from './harness.js'
import { misbehaviours, type Misbehaviour, type RawResult } from './misbehaviour-cases.js'

/**
 * `npm run bench:misbehaviour`: autocannon on echo through the gateway (`CONNECTIONS`, 50, for
 * `DURATION` s, 20) while a second client sends one of each client misbehaviour every second
 * (scripts/bench/misbehaviour-cases.ts: Expect, chunked over the limit, an early answer, a slow
 * upload, aborts mid-body, `?delay=`, `?status=503`). Reports the first client's failed requests
 * and the gateway's ejections: both must be 0 (issue 14). Three echo instances, a gateway whose
 * body limit (2 MiB) is above echo's own (1 MiB), so an instance can answer early.
 */
const { connections, durationS } = envKnobs({
  connections: integer('CONNECTIONS', 50, { min: 1 }),
  durationS: number('DURATION', 20, { min: 0.1 })
})
const gatewayBodyLimit = 2 * 1_048_576
const tryTimeoutMs = 2_000

const cluster = new BenchCluster({ prefix: 'bench-misbehaviour' })
try {
  await cluster.startRedis()
  await Promise.all([1, 2, 3].map(async (n) => await cluster.startService('echo', { INSTANCE_ID: `echo-${n}` })))
  const gateway = await cluster.startGateway({ NINES_SERVICES: 'echo', GW_BODY_LIMIT_BYTES: String(gatewayBodyLimit), GW_TRY_TIMEOUT_MS: String(tryTimeoutMs) })
  await waitForEchoes(gateway.url, 3)
  await load(`${gateway.url}/api/echo/warm`, { connections, durationS: 1 })

  const cases = misbehaviours({ gatewayBodyLimit, instanceBodyLimit: 1_048_576, tryTimeoutMs })
  const ejectionsBefore = await ejections(gateway.url)
  const tally = new Map<string, { sent: number, expected: number, other: Map<string, number> }>(cases.map((c) => [c.name, { sent: 0, expected: 0, other: new Map() }]))
  const record = async (c: Misbehaviour, run: Promise<RawResult>): Promise<void> => {
    const t = tally.get(c.name)!
    t.sent += 1
    const result = await run.catch((err: Error): RawResult => ({ status: undefined, interim: [], body: '', error: err.message }))
    if (result.status === c.expected) t.expected += 1
    else {
      const key = result.status === undefined ? `no answer${result.error !== undefined ? ` (${result.error})` : ''}` : String(result.status)
      t.other.set(key, (t.other.get(key) ?? 0) + 1)
    }
  }
  const pending: Array<Promise<void>> = []
  const stop = new AbortController()
  const misbehave = (async () => {
    while (!stop.signal.aborted) {
      for (const c of cases) pending.push(record(c, c.run(gateway.url)))
      await new Promise((resolve) => setTimeout(resolve, 1_000))
    }
  })()
  const steady: LoadFigures = await load(`${gateway.url}/api/echo/bench`, { connections, durationS })
  stop.abort()
  await misbehave
  await Promise.all(pending)
  const ejected = (await ejections(gateway.url)) - ejectionsBefore

  const failed = steady.errors + steady.non2xx
  const rows = cases.map((c) => {
    const t = tally.get(c.name)!
    const other = [...t.other].map(([k, n]) => `${k} ×${n}`).join(', ')
    return `  ${c.name.padEnd(54)} sent ${String(t.sent).padStart(3)}   ${String(c.expected ?? 'none').padStart(4)} ×${String(t.expected).padEnd(4)}${other === '' ? '' : `   other: ${other}`}`
  })
  process.stdout.write([
    `misbehaviour benchmark: autocannon -c ${connections} -d ${durationS} on echo through the gateway (3 instances), one of each misbehaviour per second, node ${process.version}`,
    `steady client: ${steady.requests} requests, ${steady.rps.toFixed(0)} req/s, p50 ${steady.p50} ms, p99 ${steady.p99} ms`,
    `steady client failed requests: ${failed} (errors ${steady.errors}, non-2xx ${steady.non2xx})   ${failed === 0 ? 'OK' : 'FAIL'}`,
    `ejections during the run: ${ejected}   ${ejected === 0 ? 'OK' : 'FAIL'}`,
    'misbehaving client (expected status × times it came):',
    ...rows,
    ''
  ].join('\n'))
  if (failed !== 0 || ejected !== 0) process.exitCode = 1
} finally {
  await cluster.stop()
}

async function ejections (gatewayUrl: string): Promise<number> {
  const text = await (await request(`${gatewayUrl}/metrics`)).body.text()
  return [...text.matchAll(/^gateway_ejections_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0)
}

async function waitForEchoes (gatewayUrl: string, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await request(`${gatewayUrl}/registry`)
    const view = (await res.body.json()) as { services: Record<string, unknown[]> }
    if ((view.services.echo?.length ?? 0) >= count) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`the gateway did not see ${count} echo instances`)
}
