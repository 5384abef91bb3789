import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { ids, kv, KvCluster } from './kv-leader-harness.js'
import { waitFor } from '../../shared/testing/wait.js'

const cluster = new KvCluster('kvl-failover')

beforeAll(async () => { await cluster.start({ gateway: true }) })
afterAll(async () => { await cluster.stop() })

const api = (): string => `${cluster.gateway!.url}/api/kv-leader`

/** Writers through the gateway, each write to a fresh key; only 2xx answers are recorded as acknowledged. */
function writeStream (writers: number, prefix: string): { acked: Map<string, string>, failures: { n: number }, stop: () => Promise<void> } {
  const acked = new Map<string, string>()
  const failures = { n: 0 }
  const flag = { running: true }
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let seq = 0; flag.running; seq++) {
      const key = `${prefix}-${w}-${seq}`
      const value = `${w}:${seq}:${Date.now()}`
      try {
        const res = await request(`${api()}/keys/${key}`, { method: 'PUT', body: value, headersTimeout: 5_000, bodyTimeout: 5_000 })
        await res.body.dump()
        if (res.statusCode >= 200 && res.statusCode < 300) acked.set(key, value)
        else failures.n++
      } catch {
        failures.n++
      }
      if (!flag.running) break
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  })
  return { acked, failures, stop: async () => { flag.running = false; await Promise.all(loops) } }
}

async function readAll (base: string, keys: Iterable<[string, string]>): Promise<string[]> {
  const lost: string[] = []
  for (const [key, value] of keys) {
    const res = await kv(base, 'GET', `/keys/${key}`)
    if (res.status !== 200 || res.text !== value) lost.push(`${key}: ${res.status} ${res.text.slice(0, 60)} (want ${value})`)
  }
  return lost
}

describe('kv-leader failover', () => {
  it('kill -9 of the leader under writes: a new leader, no acknowledged write lost', async () => {
    const oldLeader = await cluster.waitForLeader()
    const stream = writeStream(4, 'kill')
    await new Promise((resolve) => setTimeout(resolve, 600))
    const before = stream.acked.size
    expect(before).toBeGreaterThan(10)
    const killedAt = Date.now()
    cluster.nodes.get(oldLeader)!.signal('SIGKILL')
    await waitFor(async () => stream.acked.size > before + 20, 10_000, 'writes resume after the kill')
    const resumedMs = Date.now() - killedAt
    await stream.stop()
    const survivors = ids.filter((id) => id !== oldLeader)
    const newLeader = await cluster.waitForLeader(survivors)
    expect(newLeader).not.toBe(oldLeader)
    const lost = await readAll(api(), stream.acked)
    expect(lost).toEqual([])
    console.log(`kill -9: ${stream.acked.size} acknowledged, ${stream.failures.n} failed tries, writes resumed ${resumedMs} ms after the kill`)

    // the killed replica comes back from its log as a follower and catches up
    await cluster.startNode(oldLeader)
    const target = (await cluster.status(newLeader)).lastIndex
    await waitFor(async () => {
      const s = await cluster.status(oldLeader)
      return s.role === 'follower' && s.appliedIndex >= target
    }, 5_000, 'the old leader catches up')
    const sample = [...stream.acked].slice(-20)
    expect(await readAll(`${cluster.url(oldLeader)}`, sample.map(([k, v]) => [`${k}?consistency=eventual`, v]))).toEqual([])
  })

  it('a graceful stop of the leader under writes: the writes it holds commit before it steps down, none fails', async () => {
    const oldLeader = await cluster.waitForLeader()
    const stream = writeStream(4, 'graceful')
    await new Promise((resolve) => setTimeout(resolve, 600))
    const before = stream.acked.size
    cluster.nodes.get(oldLeader)!.signal('SIGTERM')
    await cluster.nodes.get(oldLeader)!.exited
    await waitFor(async () => stream.acked.size > before + 20, 10_000, 'writes resume after the stop')
    await stream.stop()
    // before: every write the stopping leader held was answered 503 KVL_ERR_OUTCOME_UNKNOWN
    expect(stream.failures.n).toBe(0)
    expect(await readAll(api(), stream.acked)).toEqual([])
    await cluster.startNode(oldLeader)
  })

  it('SIGSTOP of the leader past its lease: fenced, a new leader, it rejoins as a follower and converges', async () => {
    const frozen = await cluster.waitForLeader()
    expect((await kv(api(), 'PUT', '/keys/before-freeze', 'b')).status).toBe(201)
    const epochBefore = (await cluster.status(frozen)).epoch
    cluster.nodes.get(frozen)!.signal('SIGSTOP')
    // writes sent straight to the frozen leader wait in its socket buffer
    const stuck = Array.from({ length: 5 }, async (_, i) => await kv(cluster.url(frozen), 'PUT', `/keys/stuck-${i}`, `s${i}`))
    const others = ids.filter((id) => id !== frozen)
    const successor = await cluster.waitForLeader(others)
    const newEpoch = (await cluster.status(successor)).epoch
    expect(newEpoch).toBeGreaterThan(epochBefore)
    expect((await kv(api(), 'PUT', '/keys/during-freeze', 'd')).status).toBe(201)

    // a stale-epoch append is refused and told the newest epoch
    const follower = others.find((id) => id !== successor)!
    const stale = await request(`${cluster.url(follower)}/internal/append`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ epoch: epochBefore, leaderId: frozen, prevIndex: 0, prevEpoch: 0, entries: [], leaderCommit: 0 })
    })
    expect(stale.statusCode).toBe(409)
    expect(((await stale.body.json()) as { epoch: number }).epoch).toBe(newEpoch)

    cluster.nodes.get(frozen)!.signal('SIGCONT')
    for (const res of await Promise.all(stuck)) {
      // never acknowledged by the fenced replica itself: refused, or forwarded to the new leader
      if (res.status < 300) expect(res.headers['x-kv-served-by']).toBe(successor)
      else expect(res.status).toBe(503)
    }
    await waitFor(async () => {
      const [a, b] = await Promise.all([cluster.status(frozen), cluster.status(successor)])
      return a.role === 'follower' && a.epoch === newEpoch && a.leaderId === successor && a.appliedIndex === b.commitIndex && a.lastIndex === b.lastIndex
    }, 5_000, 'the old leader rejoins and converges')
    expect((await kv(cluster.url(frozen), 'GET', '/keys/during-freeze?consistency=eventual')).text).toBe('d')
    expect((await kv(api(), 'GET', '/keys/before-freeze')).text).toBe('b')
    const leaders = await Promise.all(ids.map(async (id) => (await cluster.status(id)).role))
    expect(leaders.filter((r) => r === 'leader')).toHaveLength(1)
  })

  it('Redis lost and restarted empty: no write acknowledged meanwhile, then a leader with a newer epoch and the data intact', async () => {
    const leader = await cluster.waitForLeader()
    expect((await kv(api(), 'PUT', '/keys/before-redis-loss', 'kept')).status).toBe(201)
    const epochBefore = (await cluster.status(leader)).epoch
    await cluster.redis.kill()
    const during = await kv(cluster.url(leader), 'PUT', '/keys/during-redis-loss', 'x')
    expect(during.status).toBe(503)
    await waitFor(async () => (await Promise.all(ids.map(async (id) => (await cluster.status(id)).role))).every((r) => r === 'follower'), 3_000, 'the leader steps down without Redis')
    await cluster.redis.restart()
    const next = await cluster.waitForLeader([...ids], 10_000)
    expect((await cluster.status(next)).epoch).toBeGreaterThan(epochBefore)
    expect((await kv(cluster.url(next), 'GET', '/keys/before-redis-loss')).text).toBe('kept')
    await waitFor(async () => (await kv(api(), 'PUT', '/keys/after-redis-loss', 'y')).status < 300, 8_000, 'writes through the gateway resume')
  })

  it('a write sent straight to a follower during an election waits for the new leader instead of failing', async () => {
    const leader = await cluster.waitForLeader()
    const follower = ids.find((id) => id !== leader)!
    cluster.nodes.get(leader)!.signal('SIGKILL')
    await cluster.nodes.get(leader)!.exited
    const res = await kv(cluster.url(follower), 'PUT', '/keys/during-election', 'e')
    expect(res.status).toBe(201)
    const next = await cluster.waitForLeader(ids.filter((id) => id !== leader))
    expect((await kv(cluster.url(next), 'GET', '/keys/during-election')).text).toBe('e')
    await cluster.startNode(leader)
  })
})
