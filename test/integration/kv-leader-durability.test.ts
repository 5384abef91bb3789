import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deadlineHeader } from '../../shared/src/service/deadline.js'
import { ids, kv, KvCluster } from './kv-leader-harness.js'
import { waitFor } from '../../shared/testing/wait.js'

// fsync on every write here, and compaction past 20 entries: the restart cases read back what
// the snapshot and the log file kept, and a wiped replica comes back through a snapshot
const cluster = new KvCluster('kvl-durability', { KV_FSYNC: 'always', KV_COMPACT_ENTRIES: '20' })

beforeAll(async () => { await cluster.start() })
afterAll(async () => { await cluster.stop() })

async function caughtUp (id: string, leader: string): Promise<void> {
  await waitFor(async () => {
    const [s, l] = await Promise.all([cluster.status(id), cluster.status(leader)])
    return s.role === 'follower' && s.lastIndex === l.lastIndex && s.appliedIndex === l.commitIndex
  }, 8_000, `${id} catches up with ${leader}`)
}

describe('kv-leader durability and quorum', () => {
  it('majority mode with two of three replicas down: 503 after the deadline, nothing acknowledged; one back and writes resume', async () => {
    const leader = await cluster.waitForLeader()
    const down = ids.filter((id) => id !== leader)
    for (const id of down) cluster.nodes.get(id)!.signal('SIGKILL')
    await Promise.all(down.map(async (id) => await cluster.nodes.get(id)!.exited))
    const started = Date.now()
    const results = await Promise.all(Array.from({ length: 4 }, async (_, i) => await kv(cluster.url(leader), 'PUT', `/keys/noquorum-${i}`, 'x')))
    const elapsed = Date.now() - started
    for (const res of results) {
      expect(res.status).toBe(503)
      // in the leader's log, not acknowledged: it may still be applied if a replica returns
      expect(JSON.parse(res.text).error).toBe('KVL_ERR_OUTCOME_UNKNOWN')
    }
    expect(elapsed).toBeGreaterThanOrEqual(700) // KV_WRITE_TIMEOUT_MS is 800 here
    const back = down[0]!
    await cluster.startNode(back)
    await waitFor(async () => (await kv(cluster.url(leader), 'PUT', '/keys/after-quorum', 'ok')).status < 300, 8_000, 'writes resume')
    expect((await kv(cluster.url(leader), 'GET', '/keys/after-quorum')).text).toBe('ok')
    await cluster.startNode(down[1]!)
    await caughtUp(down[1]!, leader)
  })

  it('a write whose caller waits longer than KV_WRITE_TIMEOUT_MS rides out a stall of the quorum (a Redis restart holds acknowledgements so)', async () => {
    const leader = await cluster.waitForLeader()
    const followers = ids.filter((id) => id !== leader)
    for (const id of followers) cluster.nodes.get(id)!.signal('SIGSTOP')
    try {
      // the caller (the gateway) waits 4 s; the quorum is back after 1.2 s, past the 800 ms KV_WRITE_TIMEOUT_MS
      const write = kv(cluster.url(leader), 'PUT', '/keys/stalled', 'v', { [deadlineHeader]: String(Date.now() + 4_000) })
      await new Promise((resolve) => setTimeout(resolve, 1_200))
      for (const id of followers) cluster.nodes.get(id)!.signal('SIGCONT')
      expect((await write).status).toBe(201)
    } finally {
      for (const id of followers) cluster.nodes.get(id)!.signal('SIGCONT')
    }
  })

  it('a frozen follower: the other two keep acknowledging; thawed, it catches up', async () => {
    const leader = await cluster.waitForLeader()
    const frozen = ids.find((id) => id !== leader)!
    cluster.nodes.get(frozen)!.signal('SIGSTOP')
    try {
      for (let i = 0; i < 10; i++) expect((await kv(cluster.url(leader), 'PUT', `/keys/frozen-${i}`, `f${i}`)).status).toBe(201)
    } finally {
      cluster.nodes.get(frozen)!.signal('SIGCONT')
    }
    await caughtUp(frozen, leader)
    expect((await kv(cluster.url(frozen), 'GET', '/keys/frozen-9?consistency=eventual')).text).toBe('f9')
  })

  it('a replica restarted from its log file recovers locally and catches up', async () => {
    const leader = await cluster.waitForLeader()
    const follower = ids.find((id) => id !== leader)!
    expect((await kv(cluster.url(leader), 'PUT', '/keys/r-before', 'one')).status).toBe(201)
    await caughtUp(follower, leader)
    const node = cluster.nodes.get(follower)!
    node.signal('SIGKILL')
    await node.exited
    const kept = (await kv(cluster.url(leader), 'PUT', '/keys/r-while-down', 'two')).status
    expect(kept).toBe(201)
    const restarted = await cluster.startNode(follower)
    const recovered = restarted.lines.map((l) => { try { return JSON.parse(l) as Record<string, unknown> } catch { return {} } }).find((e) => e.msg === 'log recovered')
    expect(Number(recovered?.lastIndex)).toBeGreaterThan(0)
    await caughtUp(follower, leader)
    expect((await kv(cluster.url(follower), 'GET', '/keys/r-before?consistency=eventual')).text).toBe('one')
    expect((await kv(cluster.url(follower), 'GET', '/keys/r-while-down?consistency=eventual')).text).toBe('two')
    expect(readFileSync(join(cluster.dataDir(follower), 'replication.log'), 'utf8')).toContain('"k":"r-while-down"')
  })

  it('a replica whose data directory was wiped catches up from the leader', async () => {
    const leader = await cluster.waitForLeader()
    const follower = ids.find((id) => id !== leader)!
    const node = cluster.nodes.get(follower)!
    node.signal('SIGKILL')
    await node.exited
    cluster.wipe(follower)
    expect((await kv(cluster.url(leader), 'PUT', '/keys/w-while-wiped', 'three')).status).toBe(201)
    for (let i = 0; i < 30; i++) expect((await kv(cluster.url(leader), 'PUT', `/keys/bulk-${i % 7}`, `b${i}`)).status).toBeLessThan(300)
    expect((await cluster.status(leader)).snapshotIndex).toBeGreaterThan(0)
    await cluster.startNode(follower)
    await caughtUp(follower, leader)
    expect((await cluster.status(follower)).snapshotIndex).toBeGreaterThan(0)
    expect(cluster.nodes.get(leader)!.lines.some((l) => l.includes('sending a snapshot'))).toBe(true)
    expect((await kv(cluster.url(follower), 'GET', '/keys/bulk-1?consistency=eventual')).text).toBe('b29')
    expect((await kv(cluster.url(follower), 'GET', '/keys/r-before?consistency=eventual')).text).toBe('one')
    expect((await kv(cluster.url(follower), 'GET', '/keys/w-while-wiped?consistency=eventual')).text).toBe('three')
  })

  it('the whole set restarted from its log files elects a leader and serves the same data', async () => {
    const leader = await cluster.waitForLeader()
    const before = await cluster.status(leader)
    for (const id of ids) cluster.nodes.get(id)!.signal('SIGKILL')
    await Promise.all(ids.map(async (id) => await cluster.nodes.get(id)!.exited))
    await Promise.all(ids.map(async (id) => await cluster.startNode(id)))
    const next = await cluster.waitForLeader()
    const after = await cluster.status(next)
    expect(after.epoch).toBeGreaterThan(before.epoch)
    expect(after.lastIndex).toBeGreaterThan(before.lastIndex)
    for (const key of ['r-before', 'r-while-down', 'w-while-wiped', 'after-quorum']) {
      expect((await kv(cluster.url(next), 'GET', `/keys/${key}`)).status).toBe(200)
    }
  })
})
