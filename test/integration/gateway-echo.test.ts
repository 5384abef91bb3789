import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startGateway, startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { killAll } from '../../shared/testing/processes.js'
import { waitFor } from '../../shared/testing/wait.js'

let redis: TestRedis
let gateway: RunningProcess
const echoes: RunningProcess[] = []

beforeAll(async () => {
  redis = await startRedis()
  const env = { REDIS_URL: redis.url, NINES_PREFIX: 'gw-echo' }
  echoes.push(...await Promise.all([1, 2, 3].map(async (i) => await startInstance('echo', { ...env, INSTANCE_ID: `echo-${i}` }))))
  gateway = await startGateway({ ...env, NINES_SERVICES: 'echo' })
  await waitFor(async () => (await getJson('/registry')).services.echo?.length === 3)
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

async function getJson (path: string): Promise<any> {
  const res = await request(gateway.url + path)
  return await res.body.json()
}

describe('gateway with the echo pool', () => {
  it('spreads requests over every instance and says who served', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 30; i++) {
      const res = await request(`${gateway.url}/api/echo/hello?x=${i}`)
      expect(res.statusCode).toBe(200)
      const body = await res.body.json() as { instance: string, path: string, query: Record<string, string> }
      expect(res.headers['x-instance-id']).toBe(body.instance)
      expect(body.path).toBe('/hello')
      expect(body.query.x).toBe(String(i))
      seen.add(body.instance)
    }
    expect([...seen].sort()).toEqual(['echo-1', 'echo-2', 'echo-3'])
  })

  it('shows every instance in /registry and is ready', async () => {
    const registry = await getJson('/registry')
    expect(registry.services.echo.map((i: { id: string }) => i.id)).toEqual(['echo-1', 'echo-2', 'echo-3'])
    const ready = await request(`${gateway.url}/readyz`)
    expect(ready.statusCode).toBe(200)
    await ready.body.dump()
  })
})
