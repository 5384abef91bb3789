import { request } from 'undici'
import { BenchCluster, cpuMicros, envNumber, load, type LoadFigures } from './harness.js'

/**
 * `npm run bench:gateway`: one echo instance loaded directly and through the gateway, rounds
 * interleaved in one run with the same settings, so the ratio is measured under the same noise.
 * Prints req/s and latency for each, the throughput ratio, the p99 the gateway adds and the
 * gateway's CPU time per proxied request.
 */
const connections = envNumber('CONNECTIONS', 50)
const durationS = envNumber('DURATION', 5)
const rounds = envNumber('ROUNDS', 3)

const cluster = new BenchCluster()
try {
  await cluster.startRedis()
  const echo = await cluster.startService('echo', { INSTANCE_ID: 'echo-bench' })
  const gateway = await cluster.startGateway({ NINES_SERVICES: 'echo' })
  const bare = await cluster.startGateway({ NINES_SERVICES: 'echo', GW_METRICS: 'off' })
  for (const g of [gateway, bare]) {
    for (let i = 0; i < 100; i++) {
      const res = await request(`${g.url}/api/echo/warm`)
      await res.body.dump()
      if (res.statusCode === 200) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await load(`${g.url}/api/echo/warm`, { connections, durationS: 1 })
  }
  await load(`${echo.url}/warm`, { connections, durationS: 1 })

  const direct: LoadFigures[] = []
  const proxied: LoadFigures[] = []
  const noMetrics: LoadFigures[] = []
  const cpuPerRequest: number[] = []
  const cpuPerRequestBare: number[] = []
  for (let r = 0; r < rounds; r++) {
    direct.push(await load(`${echo.url}/bench`, { connections, durationS }))
    let before = cpuMicros(gateway.pid)
    const p = await load(`${gateway.url}/api/echo/bench`, { connections, durationS })
    cpuPerRequest.push((cpuMicros(gateway.pid) - before) / p.requests)
    proxied.push(p)
    before = cpuMicros(bare.pid)
    const b = await load(`${bare.url}/api/echo/bench`, { connections, durationS })
    cpuPerRequestBare.push((cpuMicros(bare.pid) - before) / b.requests)
    noMetrics.push(b)
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  const row = (name: string, xs: LoadFigures[]): string =>
    `${name.padEnd(16)} ${mean(xs.map((x) => x.rps)).toFixed(0).padStart(8)} req/s   p50 ${mean(xs.map((x) => x.p50)).toFixed(2)} ms   p99 ${mean(xs.map((x) => x.p99)).toFixed(2)} ms   errors ${xs.reduce((a, x) => a + x.errors + x.non2xx, 0)}`
  const ratio = mean(proxied.map((x) => x.rps)) / mean(direct.map((x) => x.rps))
  process.stdout.write([
    `gateway benchmark: ${rounds} interleaved rounds of ${durationS} s, ${connections} connections, one echo instance, node ${process.version}`,
    row('direct', direct),
    row('through gateway', proxied),
    row('gateway, no metrics', noMetrics),
    `ratio (gateway / direct): ${ratio.toFixed(2)}`,
    `p99 added by the gateway: ${(mean(proxied.map((x) => x.p99)) - mean(direct.map((x) => x.p99))).toFixed(2)} ms`,
    `gateway CPU per proxied request: ${mean(cpuPerRequest).toFixed(1)} µs (per round: ${cpuPerRequest.map((c) => c.toFixed(1)).join(', ')})`,
    `metrics cost: throughput ${((1 - mean(proxied.map((x) => x.rps)) / mean(noMetrics.map((x) => x.rps))) * 100).toFixed(1)} % lower with metrics on; CPU ${mean(cpuPerRequest).toFixed(1)} vs ${mean(cpuPerRequestBare).toFixed(1)} µs per request`,
    ''
  ].join('\n'))
} finally {
  await cluster.stop()
}
