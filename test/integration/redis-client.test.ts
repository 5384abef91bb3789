import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedis, waitReady, type Redis } from '../../shared/src/redis.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/**
 * The cluster's Redis client against a real redis-server: what callers that ride out a restart
 * (the feed's append, the registry watcher) rely on.
 */
let redis: TestRedis
let client: Redis

beforeAll(async () => {
  redis = await startRedis()
  client = createRedis(redis.url)
  expect(await waitReady(client, 5_000)).toBe(true)
})

afterAll(async () => {
  client?.disconnect()
  await redis?.stop()
})

describe('createRedis + waitReady', () => {
  it('a connection that can no longer be written is not ready: a retry loop waits for the reconnection instead of spinning', async () => {
    // the state between the server's FIN and the socket's close: status still `ready`, stream not writable
    client.stream.end()
    expect(client.status).toBe('ready')
    let failures = 0
    const deadline = Date.now() + 3_000
    for (;;) {
      try {
        await client.set('redis-client:k', 'v')
        break
      } catch (err) {
        failures += 1
        if (Date.now() > deadline || !(await waitReady(client, deadline - Date.now()))) throw err
      }
    }
    // one failure, then the reconnected client takes the write (a spin would fail thousands of times and starve the close event)
    expect(failures).toBe(1)
    expect(await client.get('redis-client:k')).toBe('v')
  })

  it('a restart: waitReady resolves once the client has reconnected, false while nothing answers', async () => {
    await redis.kill()
    expect(await waitReady(client, 300)).toBe(false)
    await redis.restart()
    expect(await waitReady(client, 5_000)).toBe(true)
    expect(await client.ping()).toBe('PONG')
  })
})
