import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis as PlainRedis } from 'ioredis'
import { createRedis, waitReady, type Redis } from '../../shared/src/redis.js'
import { execReplicated } from '../../shared/src/redis-replication.js'
import { killAll } from '../../shared/testing/processes.js'
import { startSentinelTopology, type TestSentinelRedis } from '../../scripts/lib/redis-sentinel.js'
import { waitFor } from '../../shared/testing/wait.js'

/**
 * The chaos run's Redis faults on the Sentinel topology itself (scripts/launcher/redis-sentinel.ts):
 * a frozen primary that the Sentinels replaced is made a replica as soon as it wakes (their own
 * INFO round would take up to 10 s, with no replica to confirm a write meanwhile), and clients
 * leave it as soon as the Sentinels name the new primary; a primary killed and restarted at once
 * comes back on its own data.
 */
let ha: TestSentinelRedis
let redis: Redis

beforeAll(async () => {
  ha = await startSentinelTopology({ persistence: true })
  redis = createRedis(ha.url, undefined, { enableOfflineQueue: true, maxRetriesPerRequest: null })
  redis.on('error', () => {})
  await waitReady(redis, 5_000)
})
afterAll(async () => {
  redis?.disconnect()
  killAll()
  await ha?.cleanup()
})

async function role (port: number): Promise<string> {
  const client = new PlainRedis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500, commandTimeout: 500 })
  client.on('error', () => {})
  try {
    await client.connect()
    return String(((await client.call('ROLE')) as unknown[])[0])
  } catch {
    return 'unreachable'
  } finally {
    client.disconnect()
  }
}

describe('Redis primary faults', () => {
  it('a primary frozen past down-after is replaced, and is a replica again within about a second of waking', async () => {
    await ha.waitUntilRedundant()
    const before = await ha.primaryPort()
    const promoted = ha.waitForFailover(before, 20_000)
    await ha.freezePrimary(4_000)
    const woke = Date.now()
    expect(await promoted).not.toBe(before)
    await waitFor(async () => await role(before) === 'slave', 5_000, 'the woken primary demoted')
    expect(Date.now() - woke).toBeLessThan(3_000)
    await ha.waitUntilRedundant()
  })

  it('a client connected to a frozen primary follows the Sentinels to the new primary, well before the old one wakes', async () => {
    await ha.waitUntilRedundant()
    const client = createRedis(ha.url)
    client.on('error', () => {})
    try {
      await waitFor(async () => await client.set('follow:k', '0') === 'OK', 10_000, 'connected to the primary')
      const before = await ha.primaryPort()
      const freezing = ha.freezePrimary(8_000)
      const after = await ha.waitForFailover(before, 20_000)
      const promotedAt = Date.now()
      await waitFor(async () => await client.set('follow:k', '1') === 'OK', 10_000, 'a write on the new primary')
      expect(Date.now() - promotedAt).toBeLessThan(1_500) // not 2 s: ioredis waits disconnectTimeout for a frozen server to close
      expect((client as unknown as { stream: { remotePort: number } }).stream.remotePort).toBe(after)
      await freezing
    } finally {
      client.disconnect()
    }
  })

  it('a primary killed and restarted at once comes back on its data: every confirmed write is still there', async () => {
    await ha.waitUntilRedundant()
    let id: unknown
    // the client may still be on the primary demoted above: its first write reconnects it (READONLY)
    await waitFor(async () => { [id] = await execReplicated(redis, (p) => p.xadd('faults:stream', '*', 'n', '1')); return true }, 10_000, 'a confirmed write')
    const port = await ha.rejoinPrimary()
    expect(['master', 'slave']).toContain(await role(port))
    await ha.waitUntilRedundant(30_000)
    await waitFor(async () => (await redis.xrange('faults:stream', '-', '+').catch(() => [])).some(([x]) => x === id), 10_000, 'the confirmed entry on the primary')
  })
})
