import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startEchoCluster, type EchoCluster } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { runLoad } from '../../shared/testing/load.js'
import { killAll } from '../../shared/testing/processes.js'
import { parsePrometheus, type Sample } from '../../shared/testing/prometheus.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

let redis: TestRedis
let cluster: EchoCluster

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startEchoCluster(redis.url, 'metrics', 2)
  await waitFor(async () => (await request(`${cluster.gateway.url}/readyz`)).statusCode === 200, 10_000, 'ready')
  await runLoad({ url: `${cluster.gateway.url}/api/echo/m`, durationMs: 500, concurrency: 2 })
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

async function scrape (url: string): Promise<Sample[]> {
  const res = await request(`${url}/metrics`)
  expect(res.headers['content-type']).toMatch(/text\/plain/)
  return parsePrometheus(await res.body.text())
}

const names = (samples: Sample[]): Set<string> => new Set(samples.map((s) => s.name))

describe('Prometheus metrics', () => {
  it('the gateway exposes its routing series and the process metrics', async () => {
    const samples = await scrape(cluster.gateway.url)
    const have = names(samples)
    for (const series of ['gateway_requests_total', 'gateway_request_duration_seconds_bucket', 'gateway_balancer_picks_total',
      'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds_bucket']) {
      expect(have, series).toContain(series)
    }
    const picks = samples.filter((s) => s.name === 'gateway_balancer_picks_total' && s.labels.service === 'echo')
    expect(new Set(picks.map((s) => s.labels.instance))).toEqual(new Set(['echo-1', 'echo-2']))
  })

  it('every instance exposes request counts and latency by route', async () => {
    for (const echo of cluster.echoes.values()) {
      const samples = await scrape(echo.url)
      expect(names(samples)).toContain('http_server_requests_total')
      expect(names(samples)).toContain('http_server_request_duration_seconds_bucket')
      expect(samples.some((s) => s.name === 'http_server_requests_total' && s.labels.route === '/*' && s.value > 0)).toBe(true)
    }
  })
})
