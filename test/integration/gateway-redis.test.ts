import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { startEchoCluster, type EchoCluster } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { runLoad } from '../../shared/testing/load.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { registryKeys } from '../../shared/src/registry/types.js'
import { RegistryWatcher } from '../../shared/src/registry/watcher.js'

let redis: TestRedis
let cluster: EchoCluster

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startEchoCluster(redis.url, 'gw-redis', 3)
  await waitFor(async () => (await echoIds()).length === 3, 10_000, 'three echo instances registered')
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

async function echoIds (): Promise<string[]> {
  const res = await request(`${cluster.gateway.url}/registry`)
  const body = await res.body.json() as { services: Record<string, Array<{ id: string }>> }
  return (body.services.echo ?? []).map((v) => v.id)
}

describe('gateway when Redis goes away', () => {
  it('keeps serving from its last snapshot while Redis is down, and instances re-register when it returns', async () => {
    await redis.kill()
    // longer than the registration TTL: without self-preservation every instance would be dropped
    const during = await runLoad({ url: `${cluster.gateway.url}/api/echo/no-redis`, durationMs: 3_000, concurrency: 4 })
    expect(during.failures).toEqual({})
    expect(Object.keys(during.byInstance).sort()).toEqual(['echo-1', 'echo-2', 'echo-3'])
    expect((await echoIds()).sort()).toEqual(['echo-1', 'echo-2', 'echo-3'])

    await redis.restart() // empty: nothing survived
    const client = new Redis(redis.url)
    try {
      await waitFor(async () => (await client.smembers('gw-redis:registry:ids')).length === 3, 5_000, 'instances re-registered by themselves')
    } finally {
      client.disconnect()
    }
    const after = await runLoad({ url: `${cluster.gateway.url}/api/echo/redis-back`, durationMs: 1_000, concurrency: 4 })
    expect(after.failures).toEqual({})

    // and the registry works again end to end: a new instance is found
    await cluster.addEcho('echo-9')
    await waitFor(async () => (await echoIds()).includes('echo-9'), 2_000, 'a new instance seen after Redis returned')
  })

  it('a Redis frozen past the registrations\' TTL lets them lapse on its clock: on waking, the watcher holds them for its grace period', async () => {
    const prefix = 'gw-frozen'
    const keys = registryKeys(prefix)
    const client = new Redis(redis.url)
    const watcher = new RegistryWatcher({ redisUrl: redis.url, prefix, refreshMs: 100, reconnectGraceMs: 2_000 })
    try {
      const record = { id: 'frozen-1', service: 'echo', url: 'http://127.0.0.1:9', role: 'member', startedAt: Date.now() }
      // registered once, never renewed: only the grace keeps it once Redis says it lapsed
      await client.multi().set(keys.instance(record.id), JSON.stringify(record), 'PX', 800).sadd(keys.ids, record.id).exec()
      await watcher.start()
      expect(watcher.instances('echo').map((r) => r.id)).toEqual(['frozen-1'])
      await new Promise((resolve) => setTimeout(resolve, 300)) // past the connection's own grace
      const pid = redis.pid() as number
      process.kill(pid, 'SIGSTOP')
      try {
        await new Promise((resolve) => setTimeout(resolve, 1_500))
      } finally {
        process.kill(pid, 'SIGCONT')
      }
      await new Promise((resolve) => setTimeout(resolve, 500)) // a few refreshes on the woken Redis, where it lapsed
      expect(await client.exists(keys.instance(record.id))).toBe(0)
      expect(watcher.instances('echo').map((r) => r.id)).toEqual(['frozen-1'])
      await waitFor(async () => watcher.instances('echo').length === 0, 5_000, 'dropped once the grace is over')
    } finally {
      await watcher.stop()
      client.disconnect()
    }
  })
})
