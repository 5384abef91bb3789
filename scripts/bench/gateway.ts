import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { integer, number } from '../../shared/src/config.js'
import { envKnobs } from '../cli.js'
import { BenchCluster, cpuMicros, load, type LoadFigures } from './harness.js'
import { findNginx, startNginx, type Nginx } from './nginx.js'

/**
 * `npm run bench:gateway`: one echo instance loaded directly, through the gateway (every feature
 * on: health checks, metrics, retries, deadlines, hedging, slow start), through a gateway without
 * metrics, and through nginx (Debian's package, one worker, keep-alive to the same instance) as
 * the reference proxy, in rounds interleaved in one run with the same settings, so the ratios are
 * measured under the same noise. Prints req/s and latency for each, the ratios to direct and to
 * nginx, the p99 the gateway adds and the CPU per proxied request of the gateway and of nginx.
 * Without nginx (NGINX=path, /usr/sbin/nginx or the PATH) its line is skipped with a message.
 */
const { connections, durationS, rounds } = envKnobs({
  connections: integer('CONNECTIONS', 50, { min: 1 }),
  durationS: number('DURATION', 5, { min: 0.1 }),
  rounds: integer('ROUNDS', 3, { min: 1 })
})

const cluster = new BenchCluster()
const nginxDir = mkdtempSync(join(tmpdir(), 'nines-nginx-'))
let nginx: Nginx | undefined
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
  const nginxBinary = findNginx()
  if (nginxBinary !== undefined) {
    nginx = await startNginx(nginxBinary, nginxDir, echo.url)
    await load(`${nginx.url}/api/echo/warm`, { connections, durationS: 1 })
  }
  await load(`${echo.url}/warm`, { connections, durationS: 1 })

  const direct: LoadFigures[] = []
  const proxied: LoadFigures[] = []
  const noMetrics: LoadFigures[] = []
  const viaNginx: LoadFigures[] = []
  const cpuPerRequest: number[] = []
  const cpuPerRequestBare: number[] = []
  const cpuPerRequestNginx: number[] = []
  const perRequest = async (pid: number | undefined, run: () => Promise<LoadFigures>, into: number[]): Promise<LoadFigures> => {
    const before = pid === undefined ? 0 : cpuMicros(pid)
    const figures = await run()
    if (pid !== undefined) into.push((cpuMicros(pid) - before) / figures.requests)
    return figures
  }
  for (let r = 0; r < rounds; r++) {
    direct.push(await load(`${echo.url}/bench`, { connections, durationS }))
    proxied.push(await perRequest(gateway.pid, async () => await load(`${gateway.url}/api/echo/bench`, { connections, durationS }), cpuPerRequest))
    noMetrics.push(await perRequest(bare.pid, async () => await load(`${bare.url}/api/echo/bench`, { connections, durationS }), cpuPerRequestBare))
    if (nginx !== undefined) {
      const n = nginx
      viaNginx.push(await perRequest(n.workerPid(), async () => await load(`${n.url}/api/echo/bench`, { connections, durationS }), cpuPerRequestNginx))
    }
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  const rps = (xs: LoadFigures[]): number => mean(xs.map((x) => x.rps))
  const row = (name: string, xs: LoadFigures[]): string =>
    `${name.padEnd(20)} ${rps(xs).toFixed(0).padStart(8)} req/s   p50 ${mean(xs.map((x) => x.p50)).toFixed(2)} ms   p99 ${mean(xs.map((x) => x.p99)).toFixed(2)} ms   errors ${xs.reduce((a, x) => a + x.errors + x.non2xx, 0)}`
  process.stdout.write([
    `gateway benchmark: ${rounds} interleaved rounds of ${durationS} s, ${connections} connections, one echo instance, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    row('direct', direct),
    row('through gateway', proxied),
    row('gateway, no metrics', noMetrics),
    nginx !== undefined ? row('through nginx', viaNginx) : 'through nginx        skipped: nginx not found (set NGINX=/path/to/nginx, or apt-get install nginx)',
    `ratio (gateway / direct): ${(rps(proxied) / rps(direct)).toFixed(2)}`,
    ...(nginx !== undefined ? [`ratio (nginx / direct): ${(rps(viaNginx) / rps(direct)).toFixed(2)}`, `ratio (gateway / nginx): ${(rps(proxied) / rps(viaNginx)).toFixed(2)}`] : []),
    `p99 added by the gateway: ${(mean(proxied.map((x) => x.p99)) - mean(direct.map((x) => x.p99))).toFixed(2)} ms`,
    `gateway CPU per proxied request: ${mean(cpuPerRequest).toFixed(1)} µs (per round: ${cpuPerRequest.map((c) => c.toFixed(1)).join(', ')})`,
    ...(nginx !== undefined ? [`nginx worker CPU per proxied request: ${mean(cpuPerRequestNginx).toFixed(1)} µs (per round: ${cpuPerRequestNginx.map((c) => c.toFixed(1)).join(', ')})`] : []),
    `metrics cost: throughput ${((1 - rps(proxied) / rps(noMetrics)) * 100).toFixed(1)} % lower with metrics on; CPU ${mean(cpuPerRequest).toFixed(1)} vs ${mean(cpuPerRequestBare).toFixed(1)} µs per request`,
    ''
  ].join('\n'))
} finally {
  await nginx?.stop()
  rmSync(nginxDir, { recursive: true, force: true })
  await cluster.stop()
}
