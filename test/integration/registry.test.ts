import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { Redis } from 'ioredis'
import { createRedis } from '../../shared/src/redis.js'
import { Registrar } from '../../shared/src/registry/registrar.js'
import { removeLapsed } from '../../shared/src/registry/lapsed.js'
import { registryKeys, type InstanceRecord, type RegistryEvent } from '../../shared/src/registry/types.js'
import { RegistryWatcher } from '../../shared/src/registry/watcher.js'
import { waitFor } from '../../shared/testing/wait.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/** The registry's heartbeat and refresh against a real Redis, as cheap as an idle cluster needs them. */
let redis: TestRedis
let admin: Redis

beforeAll(async () => {
  redis = await startRedis()
  admin = new Redis(redis.url)
})

afterAll(async () => {
  admin?.disconnect()
  await redis?.stop()
})

const record = (id: string): InstanceRecord => ({ id, service: 'svc', url: `http://127.0.0.1:${1_000 + id.charCodeAt(0)}`, role: 'member', startedAt: 1 })

async function calls (command: string): Promise<number> {
  const stats = await admin.info('commandstats')
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
}

function registrar (prefix: string, id: string, extra: Partial<ConstructorParameters<typeof Registrar>[0]> = {}): Registrar {
  const client = createRedis(redis.url)
  const r = new Registrar({ redis: client, prefix, record: record(id), ttlMs: 1_000, heartbeatMs: 100, ...extra })
  onTestFinished(async () => { await r.stop(); client.disconnect() })
  return r
}

describe('registrar heartbeat', () => {
  it('renews an unchanged registration with PEXPIRE alone, keeping its TTL fresh', async () => {
    const keys = registryKeys('hb-renew')
    const r = registrar('hb-renew', 'a')
    await admin.config('RESETSTAT')
    await r.start()
    await new Promise((resolve) => setTimeout(resolve, 650))
    expect(await calls('set')).toBe(1) // the registration itself
    expect(await calls('pexpire')).toBeGreaterThanOrEqual(3)
    expect(await admin.pttl(keys.instance('a'))).toBeGreaterThan(700)
    expect(JSON.parse((await admin.get(keys.instance('a')))!)).toMatchObject({ id: 'a' })
  })

  it('registers again, and announces it, when its key vanished (a lapse, a Redis that restarted empty)', async () => {
    const keys = registryKeys('hb-lost')
    const sub = new Redis(redis.url)
    onTestFinished(() => { sub.disconnect() })
    const events: RegistryEvent[] = []
    await sub.subscribe(keys.channel)
    sub.on('message', (_channel, message: string) => { events.push(JSON.parse(message) as RegistryEvent) })
    const r = registrar('hb-lost', 'b')
    await r.start()
    await waitFor(() => events.length === 1, 2_000, 'the first registration announced')
    await admin.del(keys.instance('b'))
    await admin.srem(keys.ids, 'b')
    await waitFor(async () => (await admin.exists(keys.instance('b'))) === 1, 2_000, 'registered again')
    expect(await admin.sismember(keys.ids, 'b')).toBe(1)
    await waitFor(() => events.length === 2, 2_000, 'the new registration announced')
    expect(events[1]).toMatchObject({ type: 'up', instance: { id: 'b' } })
  })

  it('writes live meta when it changes, and a watcher sees it at its next refresh', async () => {
    const keys = registryKeys('hb-meta')
    let queued = 0
    const r = registrar('hb-meta', 'c', { liveMeta: () => ({ queued }) })
    const watcher = new RegistryWatcher({ redisUrl: redis.url, prefix: 'hb-meta', refreshMs: 100 })
    onTestFinished(async () => { await watcher.stop() })
    await r.start()
    await watcher.start()
    await waitFor(() => watcher.snapshot.get('c')?.meta?.queued === 0, 2_000, 'the watcher sees the first meta')
    const setsBefore = await calls('set')
    queued = 7
    await waitFor(() => watcher.snapshot.get('c')?.meta?.queued === 7, 2_000, 'the watcher sees the new meta')
    expect(JSON.parse((await admin.get(keys.instance('c')))!).meta).toEqual({ queued: 7 })
    expect(await calls('set')).toBeGreaterThan(setsBefore)
  })
})

describe('lapsed registrations', () => {
  it('drops the id of a lapsed registration, never of one that registered again since it was read', async () => {
    const keys = registryKeys('lapsed')
    await admin.sadd(keys.ids, 'gone', 'back')
    // "back" lapsed when a refresh read it, and registered again before the refresh cleaned up
    await admin.set(keys.instance('back'), JSON.stringify(record('back')), 'PX', 5_000)
    expect(await removeLapsed(createRedisOnce(), keys, ['gone', 'back'])).toBe(1)
    expect((await admin.smembers(keys.ids)).sort()).toEqual(['back'])
    expect(await removeLapsed(createRedisOnce(), keys, [])).toBe(0)
  })
})

function createRedisOnce (): ReturnType<typeof createRedis> {
  const client = createRedis(redis.url, undefined, { enableOfflineQueue: true })
  onTestFinished(() => { client.disconnect() })
  return client
}
