import { describe, expect, it } from 'vitest'
import { ReplicationLog } from '../../../services/kv-leader/src/core/log.js'
import { ackIndex, canServeReads, initialState, step, type Effect, type Event, type ReplicaState } from '../../../services/kv-leader/src/core/state.js'
import type { AckMode, AppendRequest, ApplyResult, Precondition, SnapshotRequest } from '../../../services/kv-leader/src/core/types.js'

function replica (id: string, ackMode: AckMode = 'majority', log?: ReplicationLog, compactEntries = 0): ReplicaState {
  const s = initialState({ id, clusterSize: 3, ackMode, heartbeatMs: 50, maxBatchEntries: 100, maxBatchBytes: 1 << 20, compactEntries }, log)
  step(s, { type: 'peersChanged', ids: ['a', 'b', 'c'], now: 0 })
  return s
}

const of = <T extends Effect['type']>(effects: Effect[], type: T): Array<Extract<Effect, { type: T }>> =>
  effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type)

/** A tiny deterministic cluster: `deliver` carries sends to followers and replies back; persistence completes when told. */
class Sim {
  readonly nodes: Record<string, ReplicaState>
  readonly outbox: Array<{ from: string, to: string, request: AppendRequest } | { from: string, to: string, snapshot: SnapshotRequest }> = []
  readonly snapshotsSent: string[] = []
  readonly acked: number[] = []
  /** What each acknowledged write did, by index. */
  readonly results = new Map<number, ApplyResult>()
  readonly failed: Array<{ index: number, code: string }> = []
  now = 0
  /** Replicas that lose every message (down or partitioned). */
  readonly down = new Set<string>()

  constructor (ackMode: AckMode = 'majority', compactEntries = 0) {
    this.nodes = { a: replica('a', ackMode, undefined, compactEntries), b: replica('b', ackMode, undefined, compactEntries), c: replica('c', ackMode, undefined, compactEntries) }
  }

  run (id: string, event: Event): Effect[] {
    const node = this.nodes[id]!
    const { effects } = step(node, event)
    for (const e of effects) {
      if (e.type === 'send') this.outbox.push({ from: id, to: e.peer, request: e.request })
      if (e.type === 'sendSnapshot') {
        this.snapshotsSent.push(e.peer)
        this.outbox.push({ from: id, to: e.peer, snapshot: e.request })
      }
      if (e.type === 'ack') {
        this.acked.push(e.index)
        this.results.set(e.index, e.result)
      }
      if (e.type === 'fail') this.failed.push({ index: e.index, code: e.code })
      if (e.type === 'persist') {
        const last = e.entries.at(-1)!
        this.run(id, { type: 'persisted', upTo: last.index, epoch: last.epoch, now: this.now })
      }
    }
    return effects
  }

  elect (id: string, epoch: number): void {
    this.run(id, { type: 'leaseAcquired', epoch, validUntil: this.now + 500, now: this.now })
  }

  /** Delivers every queued message (and the ones they cause) to replicas that are up. */
  deliver (): void {
    while (this.outbox.length > 0) {
      const message = this.outbox.shift()!
      const { from, to } = message
      if (this.down.has(to) || this.down.has(from)) {
        this.run(from, { type: 'appendFailed', peer: to, now: this.now })
        continue
      }
      const event: Event = 'request' in message
        ? { type: 'appendRequest', request: message.request, now: this.now }
        : { type: 'snapshotRequest', request: message.snapshot, now: this.now }
      const reply = of(this.run(to, event), 'reply')[0]!.reply
      const sentEpoch = 'request' in message ? message.request.epoch : message.snapshot.epoch
      this.run(from, { type: 'appendReply', peer: to, sentEpoch, reply, now: this.now })
    }
  }

  /** Time passes for the leader `id`: it renews its lease, ticks, and messages are delivered. */
  heartbeat (id: string): void {
    this.now += 60
    this.run(id, { type: 'leaseRenewed', validUntil: this.now + 500, now: this.now })
    this.run(id, { type: 'tick', now: this.now })
    this.deliver()
  }

  put (id: string, key: string, value: string, cond?: Precondition, rid?: string): Effect[] {
    return this.run(id, { type: 'propose', op: 'put', key, value: Buffer.from(value), ...(cond !== undefined ? { cond } : {}), ...(rid !== undefined ? { rid } : {}), deadline: this.now + 1000, now: this.now })
  }

  del (id: string, key: string, cond?: Precondition, rid?: string): Effect[] {
    return this.run(id, { type: 'propose', op: 'del', key, ...(cond !== undefined ? { cond } : {}), ...(rid !== undefined ? { rid } : {}), deadline: this.now + 1000, now: this.now })
  }
}

describe('kv-leader state machine', () => {
  it('a new leader opens its epoch with a no-op, announces itself once it commits, and serves reads', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    const a = sim.nodes.a!
    expect(a.role).toBe('leader')
    expect(a.log.entry(1)).toMatchObject({ op: 'noop', epoch: 1 })
    expect(canServeReads(a, sim.now)).toBe(false)
    sim.deliver()
    expect(a.commitIndex).toBe(1)
    expect(canServeReads(a, sim.now)).toBe(true)
  })

  it('acknowledges a majority write only after a follower stored it, and followers apply committed entries', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    sim.deliver()
    const proposed = of(sim.put('a', 'k', 'v1'), 'proposed')[0]!
    expect(proposed).toEqual({ type: 'proposed', index: 2 })
    expect(sim.acked).toEqual([])
    sim.deliver()
    expect(sim.acked).toEqual([2])
    expect(sim.results.get(2)).toEqual({ applied: true, version: 2, created: true })
    expect(sim.nodes.a!.store.get('k')?.value.toString()).toBe('v1')
    // followers learn the commit index from the next heartbeat
    sim.now += 60
    sim.run('a', { type: 'tick', now: sim.now })
    sim.deliver()
    expect(sim.nodes.b!.store.get('k')?.version).toBe(2)
    expect(sim.nodes.c!.store.get('k')?.version).toBe(2)
  })

  it('fails a write with KVL_ERR_OUTCOME_UNKNOWN at its deadline when both followers are down, and never acks it', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    sim.deliver()
    sim.down.add('b').add('c')
    sim.put('a', 'k', 'v')
    sim.deliver()
    sim.now += 1001
    sim.run('a', { type: 'leaseRenewed', validUntil: sim.now + 500, now: sim.now })
    sim.run('a', { type: 'tick', now: sim.now })
    expect(sim.failed).toEqual([{ index: 2, code: 'KVL_ERR_OUTCOME_UNKNOWN' }])
    sim.down.delete('b')
    sim.now += 100
    sim.run('a', { type: 'tick', now: sim.now })
    sim.deliver()
    expect(sim.acked).toEqual([])
    expect(sim.nodes.a!.commitIndex).toBe(2) // the entry may still commit later: 503 means "not acknowledged", not "undone"
  })

  it('async mode acks on the local write; all mode waits for every replica', () => {
    const fast = new Sim('async')
    fast.elect('a', 1)
    fast.down.add('b').add('c')
    fast.put('a', 'k', 'v')
    expect(fast.acked).toEqual([2])

    const all = new Sim('all')
    all.elect('a', 1)
    all.deliver()
    all.down.add('c')
    all.put('a', 'k', 'v')
    all.deliver()
    expect(all.nodes.a!.commitIndex).toBe(2)
    expect(ackIndex(all.nodes.a!)).toBe(1)
    expect(all.acked).toEqual([])
    all.down.delete('c')
    all.now += 60
    all.run('a', { type: 'tick', now: all.now })
    all.deliver()
    expect(all.acked).toEqual([2])
  })

  it('decides preconditions when the entry is applied, in log order, and answers only after commit', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    sim.deliver()
    sim.put('a', 'k', 'v1') // 2
    // proposed while 2 is not committed: nothing is refused from uncommitted state
    expect(of(sim.put('a', 'k', 'v2', { ifMatch: [1] }), 'refused')).toEqual([]) // 3
    sim.put('a', 'k', 'v3', { ifMatch: [2] }) // 4: holds once 2 is applied
    sim.put('a', 'other', 'x', { ifMatch: 'any' }) // 5: no such key
    sim.del('a', 'nope') // 6: nothing to delete
    sim.put('a', 'k', 'v4', { ifNoneMatch: 'any' }) // 7: create-only, k exists
    sim.put('a', 'new', 'n', { ifNoneMatch: 'any' }) // 8: create-only, absent
    expect(sim.acked).toEqual([])
    sim.deliver()
    expect(sim.acked).toEqual([2, 3, 4, 5, 6, 7, 8])
    expect(sim.results.get(3)).toMatchObject({ applied: false, code: 'KVL_ERR_VERSION_MISMATCH' })
    expect(sim.results.get(4)).toEqual({ applied: true, version: 4, created: false })
    expect(sim.results.get(5)).toMatchObject({ applied: false, code: 'KVL_ERR_VERSION_MISMATCH' })
    expect(sim.results.get(6)).toMatchObject({ applied: false, code: 'KVL_ERR_NOT_FOUND' })
    expect(sim.results.get(7)).toMatchObject({ applied: false, code: 'KVL_ERR_VERSION_MISMATCH' })
    expect(sim.results.get(8)).toEqual({ applied: true, version: 8, created: true })
    // a refused entry changed nothing, on the leader and (once committed) on the followers
    sim.heartbeat('a')
    for (const id of ['a', 'b', 'c']) {
      expect(sim.nodes[id]!.store.get('k')).toMatchObject({ version: 4 })
      expect(sim.nodes[id]!.store.get('k')?.value.toString()).toBe('v3')
      expect(sim.nodes[id]!.store.get('other')).toBeUndefined()
    }
  })

  it('a DELETE whose key a pending DELETE is removing is not answered 404 before the first commits (the dirty read of issue 12)', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    sim.deliver()
    sim.put('a', 'k', 'v1')
    sim.deliver()
    sim.down.add('b').add('c') // commits stall
    sim.del('a', 'k') // 3, pending
    const second = sim.del('a', 'k') // 4
    expect(of(second, 'refused')).toEqual([])
    expect(sim.acked).toEqual([2])
    sim.down.clear()
    sim.heartbeat('a')
    expect(sim.results.get(3)).toMatchObject({ applied: true })
    expect(sim.results.get(4)).toMatchObject({ applied: false, code: 'KVL_ERR_NOT_FOUND' })
  })

  it('a retry with the same key is applied once and answers what the first did, on every replica', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    sim.deliver()
    sim.put('a', 'k', 'v1', undefined, 'rid-00000001') // 2
    sim.put('a', 'k', 'v2') // 3
    sim.put('a', 'k', 'v1', undefined, 'rid-00000001') // 4: the gateway's retry of 2
    sim.del('a', 'gone', undefined, 'rid-00000002') // 5: refused
    sim.del('a', 'gone', undefined, 'rid-00000002') // 6: its retry
    sim.deliver()
    expect(sim.results.get(4)).toEqual({ applied: true, version: 2, created: true })
    expect(sim.results.get(6)).toMatchObject({ applied: false, code: 'KVL_ERR_NOT_FOUND' })
    sim.heartbeat('a')
    for (const id of ['a', 'b', 'c']) expect(sim.nodes[id]!.store.get('k')?.value.toString()).toBe('v2')
  })

  it('a follower refuses an older epoch and tells the newest one; the sender steps down', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    sim.deliver()
    sim.put('a', 'k', 'v')
    sim.run('b', { type: 'leaderObserved', epoch: 2, leaderId: 'c', now: 0 })
    const reply = of(sim.run('b', { type: 'appendRequest', request: { epoch: 1, leaderId: 'a', prevIndex: 1, prevEpoch: 1, entries: [], leaderCommit: 1 }, now: 0 }), 'reply')[0]!.reply
    expect(reply).toEqual({ ok: false, epoch: 2, lastIndex: 1 })
    const effects = sim.run('a', { type: 'appendReply', peer: 'b', sentEpoch: 1, reply, now: 0 })
    expect(sim.nodes.a!.role).toBe('follower')
    expect(of(effects, 'fail').map((f) => f.code)).toEqual(['KVL_ERR_OUTCOME_UNKNOWN'])
    expect(of(effects, 'role')).toEqual([{ type: 'role', role: 'follower', epoch: 2, why: 'replica b has seen epoch 2' }])
  })

  it('a leader whose lease lapsed (frozen past its TTL) refuses writes and acknowledges nothing', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    sim.deliver()
    sim.put('a', 'k', 'v')
    sim.now += 600 // past validUntil (500)
    sim.deliver() // replies arrive after the lease ended
    expect(sim.acked).toEqual([])
    expect(sim.nodes.a!.role).toBe('follower')
    expect(sim.failed.map((f) => f.code)).toEqual(['KVL_ERR_OUTCOME_UNKNOWN'])
    expect(of(sim.put('a', 'k2', 'v'), 'refused')[0]?.code).toBe('KVL_ERR_NOT_LEADER')
  })

  it('a deposed leader rejoining as a follower has its conflicting uncommitted tail truncated', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    sim.deliver()
    sim.put('a', 'k', 'committed')
    sim.deliver()
    sim.down.add('a')
    sim.put('a', 'k', 'lost-1') // index 3, epoch 1, never replicated
    sim.put('a', 'k', 'lost-2') // index 4
    sim.deliver()
    sim.now += 600
    sim.run('a', { type: 'tick', now: sim.now })
    expect(sim.nodes.a!.role).toBe('follower')
    sim.elect('b', 2)
    sim.deliver() // a is still unreachable
    sim.put('b', 'k', 'new') // index 3 in epoch 2 after b's no-op at 3? (b had 1..2, so the no-op is 3, the put 4)
    sim.deliver()
    sim.down.delete('a')
    sim.now += 60
    sim.run('b', { type: 'tick', now: sim.now })
    sim.deliver()
    sim.now += 60
    sim.run('b', { type: 'tick', now: sim.now })
    sim.deliver()
    const a = sim.nodes.a!
    const b = sim.nodes.b!
    expect(a.log.lastIndex).toBe(b.log.lastIndex)
    for (let i = 1; i <= b.log.lastIndex; i++) expect(a.log.epochAt(i)).toBe(b.log.epochAt(i))
    expect(a.store.get('k')?.value.toString()).toBe('new')
    expect(a.epoch).toBe(2)
    expect(a.leaderId).toBe('b')
  })

  it('a follower that lags (or lost its data) is brought up to date from the log', () => {
    const sim = new Sim()
    sim.elect('a', 1)
    sim.down.add('c')
    sim.deliver()
    for (let i = 0; i < 30; i++) sim.put('a', `k${i}`, `v${i}`)
    sim.deliver()
    expect(sim.nodes.c!.log.lastIndex).toBe(0)
    sim.down.delete('c')
    for (let round = 0; round < 5; round++) {
      sim.now += 60
      sim.run('a', { type: 'tick', now: sim.now })
      sim.deliver()
    }
    expect(sim.nodes.c!.log.lastIndex).toBe(31)
    expect(sim.nodes.c!.store.get('k29')?.value.toString()).toBe('v29')
  })

  it('a recovered log is applied only once the leader says it is committed', () => {
    const log = new ReplicationLog()
    log.append({ index: 1, epoch: 1, op: 'put', key: 'k', value: Buffer.from('v') })
    const b = replica('b', 'majority', log)
    expect(b.epoch).toBe(1)
    expect(b.store.get('k')).toBeUndefined()
    step(b, { type: 'appendRequest', request: { epoch: 2, leaderId: 'a', prevIndex: 1, prevEpoch: 1, entries: [], leaderCommit: 1 }, now: 0 })
    expect(b.store.get('k')?.value.toString()).toBe('v')
  })

  it('the Raft commit rule: an older-epoch entry is not committed by counting until the new epoch commits one', () => {
    const log = new ReplicationLog()
    log.append({ index: 1, epoch: 1, op: 'put', key: 'k', value: Buffer.from('v') })
    const a = replica('a', 'majority', log)
    step(a, { type: 'leaseAcquired', epoch: 2, validUntil: 500, now: 0 })
    step(a, { type: 'persisted', upTo: 2, epoch: 2, now: 0 })
    step(a, { type: 'appendReply', peer: 'b', sentEpoch: 2, reply: { ok: true, epoch: 2, lastIndex: 1 }, now: 0 })
    expect(a.commitIndex).toBe(0)
    step(a, { type: 'appendReply', peer: 'b', sentEpoch: 2, reply: { ok: true, epoch: 2, lastIndex: 2 }, now: 0 })
    expect(a.commitIndex).toBe(2)
  })

  it('compacts applied entries into a snapshot, and brings a replica that lost everything back with it', () => {
    const sim = new Sim('majority', 10)
    sim.elect('a', 1)
    sim.deliver()
    for (let i = 0; i < 30; i++) {
      sim.put('a', `k${i % 5}`, `v${i}`)
      sim.deliver()
      sim.heartbeat('a')
    }
    const a = sim.nodes.a!
    expect(a.log.base).toBeGreaterThan(10)
    expect(a.log.length).toBeLessThanOrEqual(11)
    expect(a.snapshot?.index).toBe(a.log.base)
    expect(sim.nodes.b!.log.base).toBeGreaterThan(0) // followers compact too
    // c loses its data: a fresh replica under the same id
    sim.nodes.c = replica('c', 'majority', undefined, 10)
    for (let round = 0; round < 4; round++) sim.heartbeat('a')
    expect(sim.snapshotsSent).toContain('c')
    const c = sim.nodes.c
    expect(c.log.lastIndex).toBe(a.log.lastIndex)
    expect(c.store.appliedIndex).toBe(a.commitIndex)
    for (let k = 0; k < 5; k++) expect(c.store.get(`k${k}`)?.value.toString()).toBe(a.store.get(`k${k}`)?.value.toString())
    // and later writes keep flowing to it as entries
    sim.put('a', 'after', 'x')
    sim.deliver()
    sim.heartbeat('a')
    expect(c.store.get('after')?.value.toString()).toBe('x')
  })

  it('a follower whose snapshot covers what the leader resends treats it as matching', () => {
    const log = new ReplicationLog()
    log.resetTo(10, 1)
    const b = initialState({ id: 'b', clusterSize: 3, ackMode: 'majority', heartbeatMs: 50, maxBatchEntries: 100, maxBatchBytes: 1 << 20, compactEntries: 0 }, log, { index: 10, epoch: 1, entries: [{ key: 'k', value: Buffer.from('v'), version: 10 }] })
    expect(b.store.get('k')?.version).toBe(10)
    expect(b.commitIndex).toBe(10)
    const entries = Array.from({ length: 4 }, (_, i) => ({ index: 9 + i, epoch: 1, op: 'put' as const, key: `x${9 + i}`, value: Buffer.from('y') }))
    const reply = of(step(b, { type: 'appendRequest', request: { epoch: 2, leaderId: 'a', prevIndex: 8, prevEpoch: 1, entries, leaderCommit: 12 }, now: 0 }).effects, 'reply')[0]!.reply
    expect(reply).toEqual({ ok: true, epoch: 2, lastIndex: 12 })
    expect(b.log.lastIndex).toBe(12)
    expect(b.store.get('x12')?.version).toBe(12)
    expect(b.store.get('x9')).toBeUndefined() // 9 and 10 were already in the snapshot
  })
})
