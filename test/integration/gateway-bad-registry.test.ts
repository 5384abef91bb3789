import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createRedis, type Redis } from '../../shared/src/redis.js'
import { registryKeys } from '../../shared/src/registry/types.js'
import { topology } from '../../topology.js'
import { startEchoCluster, type EchoCluster } from '../../scripts/lib/cluster.js'
import { sleep, waitFor } from '../../shared/testing/wait.js'
import { runLoad } from '../../shared/testing/load.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/**
 * Anyone who can write to Redis can put anything under a registry key. One record with
 * `{"url":"not a url"}` crash-looped the gateway for as long as the key lived (issue 14, item 7):
 * every kind of bad record is written here, as keys and as announcements, while traffic flows.
 * A valid record of a service nobody has heard of is routed (adding a service needs no gateway
 * change), so a flood of made-up services is written too: the gateway routes at most
 * GW_MAX_SERVICES services and skips the rest.
 */
const prefix = 'gw-bad-registry'
const keys = registryKeys(prefix)
let redis: TestRedis
let cluster: EchoCluster
let client: Redis

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startEchoCluster(redis.url, prefix, 2)
  client = createRedis(redis.url)
  await waitFor(async () => (await request(`${cluster.gateway.url}/readyz`)).statusCode === 200, 10_000, 'gateway ready')
})

afterAll(async () => {
  client?.disconnect()
  killAll()
  await redis?.stop()
})

const base = { service: 'echo', url: 'http://127.0.0.1:1', role: 'member', startedAt: 1 }
const maxServices = 64 // GW_MAX_SERVICES' default
/** Valid records of services made up by whoever writes to Redis: more than the gateway routes. */
const madeUp = Array.from({ length: 100 }, (_, i) => JSON.stringify({ ...base, id: `made-up-${i}`, service: `made-up-${i}` }))
/** id → the stored text of each bad record. */
const badRecords: Record<string, string> = {
  'bad-url': JSON.stringify({ ...base, id: 'bad-url', url: 'not a url' }),
  'bad-scheme': JSON.stringify({ ...base, id: 'bad-scheme', url: 'ftp://127.0.0.1:21' }),
  'bad-js': JSON.stringify({ ...base, id: 'bad-js', url: 'javascript:alert(1)' }),
  'bad-port': JSON.stringify({ ...base, id: 'bad-port', url: 'http://127.0.0.1:99999' }),
  'bad-path': JSON.stringify({ ...base, id: 'bad-path', url: 'http://127.0.0.1:1/x' }),
  'bad-creds': JSON.stringify({ ...base, id: 'bad-creds', url: 'http://u:p@127.0.0.1:1' }),
  'bad-url-type': JSON.stringify({ ...base, id: 'bad-url-type', url: 42 }),
  'bad-service': JSON.stringify({ ...base, id: 'bad-service', service: '../etc' }),
  'proto-service': JSON.stringify({ ...base, id: 'proto-service', service: '__proto__' }),
  'bad-role': JSON.stringify({ ...base, id: 'bad-role', role: 42 }),
  'shouting-role': JSON.stringify({ ...base, id: 'shouting-role', role: 'LEADER!!' }),
  'bad-started': JSON.stringify({ ...base, id: 'bad-started', startedAt: 'yesterday' }),
  'bad-meta': JSON.stringify({ ...base, id: 'bad-meta', meta: { nested: { deep: true } } }),
  'bad-policy': JSON.stringify({ ...base, id: 'bad-policy', policy: { balancer: 'fastest' } }),
  'bad-policy-type': JSON.stringify({ ...base, id: 'bad-policy-type', policy: 'leader' }),
  'bad-policy-timeout': JSON.stringify({ ...base, id: 'bad-policy-timeout', policy: { tryTimeoutMs: -1 } }),
  'no-id': JSON.stringify({ ...base }),
  'not-json': '{{{ not json',
  'an-array': '[1,2,3]',
  'a-null': 'null'
}

describe('bad registry records', () => {
  it('are skipped and logged once while traffic keeps flowing', async () => {
    const load = runLoad({ url: `${cluster.gateway.url}/api/echo/steady`, durationMs: 3_000, concurrency: 4 })
    await sleep(300)
    for (const [id, text] of Object.entries(badRecords)) {
      await client.multi().set(keys.instance(id), text, 'PX', 60_000).sadd(keys.ids, id).exec()
    }
    // and as announcements, which take effect at once
    for (const text of Object.values(badRecords)) await client.publish(keys.channel, `{"type":"up","instance":${text.startsWith('{{{') ? '"{{{"' : text}}`)
    for (const message of ['not json', '{"type":"up"}', '{"type":"up","instance":null}', '{"type":"down"}', '[]']) await client.publish(keys.channel, message)
    for (const [i, text] of madeUp.entries()) {
      await client.multi().set(keys.instance(`made-up-${i}`), text, 'PX', 60_000).sadd(keys.ids, `made-up-${i}`).exec()
      await client.publish(keys.channel, `{"type":"up","instance":${text}}`)
    }
    const result = await load
    expect(result.failures, result.examples.join('\n')).toEqual({})
    expect(result.ok).toBeGreaterThan(50)
    expect(cluster.gateway.child.exitCode).toBeNull()

    const view = (await (await request(`${cluster.gateway.url}/registry`)).body.json()) as { services: Record<string, Array<{ id: string, healthy: boolean }>> }
    for (const name of ['__proto__', '../etc']) expect(Object.hasOwn(view.services, name), name).toBe(false)
    expect(view.services.echo?.map((i) => i.id).sort()).toEqual(['echo-1', 'echo-2'])
    // the made-up services the gateway had room for are routed (to nothing healthy); the rest are skipped
    const known = Object.keys(topology.services).length
    const routedMadeUp = Object.keys(view.services).filter((name) => name.startsWith('made-up-'))
    expect(Object.keys(view.services)).toHaveLength(maxServices)
    expect(routedMadeUp).toHaveLength(maxServices - known)
    const tooMany = cluster.gateway.lines.filter((l) => l.includes('registry record skipped') && l.includes('too many services'))
    expect(tooMany).toHaveLength(madeUp.length - (maxServices - known))
    // each logged once (the line's last "instance" is the record's; the first is the gateway's own)
    expect(new Set(tooMany.map((l) => [...l.matchAll(/"instance":"([^"]+)"/g)].at(-1)?.[1])).size).toBe(tooMany.length)

    // each bad key logged once, however many refreshes saw it
    const skipped = cluster.gateway.lines.filter((l) => l.includes('invalid registry record skipped') && l.includes(':registry:instance:'))
    for (const id of Object.keys(badRecords)) {
      expect(skipped.filter((l) => l.includes(`:registry:instance:${id}"`)), id).toHaveLength(1)
    }
    expect(cluster.gateway.lines.filter((l) => /"level":(5|6)\d/.test(l))).toEqual([])
  })

  it('still routes to instances that register afterwards', async () => {
    await cluster.addEcho('echo-3')
    await waitFor(async () => {
      const res = await request(`${cluster.gateway.url}/registry`)
      const view = (await res.body.json()) as { services: Record<string, Array<{ id: string }>> }
      return view.services.echo?.length === 3
    }, 5_000, 'echo-3 in the registry')
  })
})
