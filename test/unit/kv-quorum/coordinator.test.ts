import { pino } from 'pino'
import { Counter, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { PeerStatusError } from '../../../services/kv-quorum/src/adapters/peer-failure.js'
import { Coordinator, type PeerTransport } from '../../../services/kv-quorum/src/coordinator.js'
import { HintBook } from '../../../services/kv-quorum/src/core/hints.js'
import { HybridClock } from '../../../services/kv-quorum/src/core/hlc.js'
import type { Quorum } from '../../../services/kv-quorum/src/core/quorum.js'
import type { KvRecord } from '../../../services/kv-quorum/src/core/record.js'
import { VersionedStore } from '../../../services/kv-quorum/src/core/store.js'
import type { ReplicaTarget } from '../../../services/kv-quorum/src/directory.js'
import { LocalReplica } from '../../../services/kv-quorum/src/replica.js'

/** `refuse`: answers 503; `hang-on-put`: answers reads, never answers a store. */
type Behaviour = 'ok' | 'down' | 'hang' | 'refuse' | 'hang-on-put'

/** Two fake peers (b, c) with their own stores; `a` is the coordinator itself. No ports. */
function setup (behaviour: Record<'b' | 'c', Behaviour>, { registered = { b: true, c: true }, now = 1_000 } = {}) {
  const stores = { b: new VersionedStore(), c: new VersionedStore() }
  const hanging: Array<() => void> = []
  const peerOf = (url: string): 'b' | 'c' => url.endsWith('b') ? 'b' : 'c'
  const act = async <T>(url: string, f: () => T, op: 'put' | 'get' = 'get'): Promise<T> => {
    const b = behaviour[peerOf(url)]
    if (b === 'down') throw new Error('ECONNREFUSED')
    if (b === 'refuse') throw new PeerStatusError('answered 503', 503)
    if (b === 'hang' || (b === 'hang-on-put' && op === 'put')) await new Promise<void>((_resolve, reject) => { hanging.push(() => reject(new Error('timeout'))) })
    return f()
  }
  /** Every peer call with the deadline it carried. */
  const calls: Array<{ op: 'put' | 'get', peer: 'b' | 'c', deadline: number | undefined }> = []
  const peers: PeerTransport = {
    putRecords: async (url, records, _timeoutMs, deadline) => {
      calls.push({ op: 'put', peer: peerOf(url), deadline })
      await act(url, () => { for (const r of records) stores[peerOf(url)].apply(r) }, 'put')
    },
    getRecord: async (url, key, _timeoutMs, deadline) => {
      calls.push({ op: 'get', peer: peerOf(url), deadline })
      return await act(url, () => stores[peerOf(url)].get(key))
    }
  }
  const localStore = new VersionedStore()
  let wall = now
  const clock = new HybridClock(() => wall)
  const replica = new LocalReplica({ store: localStore, log: { append: async () => {}, compact: async () => {} }, clock, wallNow: () => wall, tombstoneGraceMs: 60_000, digestBuckets: 4 })
  const targets: ReplicaTarget[] = [
    { id: 'a', url: 'http://a', self: true },
    { id: 'b', url: registered.b ? 'http://b' : undefined, self: false },
    { id: 'c', url: registered.c ? 'http://c' : undefined, self: false }
  ]
  const hints = new HintBook(100)
  const registry = new Registry()
  const hintsStored = new Counter({ name: 'h', help: 'h', labelNames: ['reason'], registers: [registry] })
  const readRepairs = new Counter({ name: 'r', help: 'r', registers: [registry] })
  const coordinator = new Coordinator({
    directory: { self: 'a', targets: () => targets },
    replica,
    peers,
    clock,
    hints,
    replicaTimeoutMs: 100,
    metrics: { hintsStored, readRepairs },
    log: pino({ level: 'silent' })
  })
  const hintCounts = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await hintsStored.get()).values.map((v) => [String(v.labels.reason), v.value]))
  return { coordinator, stores, localStore, hints, hintCounts, readRepairs, calls, timeOutHanging: () => { for (const f of hanging.splice(0)) f() }, setWall: (ms: number) => { wall = ms } }
}

const q = (w: number, r: number, consistency: Quorum['consistency'] = 'quorum'): Quorum => ({ n: 3, w, r, consistency })
const rec = (key: string, t: number, value: string | null, n = 'x'): KvRecord => ({ key, value: value === null ? null : Buffer.from(value), version: { t, c: 0, n } })
const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)) }

describe('Coordinator.write', () => {
  it('answers at W while a replica still hangs, and hints it once it fails', async () => {
    const { coordinator, stores, hints, timeOutHanging } = setup({ b: 'ok', c: 'hang' })
    const out = await coordinator.write('k', Buffer.from('v'), q(2, 2))
    expect(out.reached).toBe(true)
    expect(out.replicas.sort()).toEqual(['a', 'b'])
    expect(stores.b.get('k')?.value?.toString()).toBe('v')
    expect(hints.count('c')).toBe(0)
    timeOutHanging()
    await flush()
    expect(hints.peek('c', 10).map((r) => r.value?.toString())).toEqual(['v'])
  })

  it('reports the count when W cannot be met, after every replica answered', async () => {
    const { coordinator, hints } = setup({ b: 'ok', c: 'down' })
    const out = await coordinator.write('k', Buffer.from('v'), q(3, 1))
    expect(out.reached).toBe(false)
    expect(out.replicas.sort()).toEqual(['a', 'b'])
    expect(hints.count('c')).toBe(1)
  })

  it('counts an unregistered replica as down (N stays 3)', async () => {
    const { coordinator, hints } = setup({ b: 'ok', c: 'ok' }, { registered: { b: true, c: false } })
    const out = await coordinator.write('k', null, q(3, 1))
    expect(out.reached).toBe(false)
    expect(out.replicas.length).toBe(2)
    expect(hints.peek('c', 10)[0]?.value).toBeNull()
  })

  it('labels each hint with why the replica missed the write', async () => {
    const refused = setup({ b: 'ok', c: 'refuse' })
    await refused.coordinator.write('k', Buffer.from('v'), q(2, 2))
    await flush()
    expect(await refused.hintCounts()).toEqual({ refused: 1 })
    const timedOut = setup({ b: 'ok', c: 'hang' })
    await timedOut.coordinator.write('k', Buffer.from('v'), q(2, 2))
    timedOut.timeOutHanging()
    await flush()
    expect(await timedOut.hintCounts()).toEqual({ unknown: 1 })
    const away = setup({ b: 'ok', c: 'ok' }, { registered: { b: true, c: false } })
    await away.coordinator.write('k', Buffer.from('v'), q(2, 2))
    expect(await away.hintCounts()).toEqual({ unregistered: 1 })
  })
})

describe('Coordinator.read', () => {
  it('returns the newest of the answers and repairs the stale replicas afterwards', async () => {
    const { coordinator, stores, localStore } = setup({ b: 'ok', c: 'ok' })
    localStore.apply(rec('k', 5, 'old'))
    stores.b.apply(rec('k', 9, 'new'))
    const out = await coordinator.read('k', q(2, 3))
    expect(out.reached).toBe(true)
    expect(out.record?.value?.toString()).toBe('new')
    expect(out.stale.sort()).toEqual(['a', 'c'])
    await flush()
    expect(localStore.get('k')?.value?.toString()).toBe('new')
    expect(stores.c.get('k')?.value?.toString()).toBe('new')
  })

  it('fails when fewer than R answer, and still returns at R when one hangs', async () => {
    const hang = setup({ b: 'ok', c: 'hang' })
    hang.stores.b.apply(rec('k', 1, 'v'))
    const two = await hang.coordinator.read('k', q(2, 2))
    expect(two.reached).toBe(true)
    expect(two.record?.value?.toString()).toBe('v')
    const down = setup({ b: 'down', c: 'down' })
    const out = await down.coordinator.read('k', q(2, 2))
    expect(out.reached).toBe(false)
    expect(out.replicas).toEqual(['a'])
  })

  it('answers without waiting for read repair (a stale replica that never takes the repair)', async () => {
    const { coordinator, stores, localStore, readRepairs, timeOutHanging } = setup({ b: 'ok', c: 'hang-on-put' })
    localStore.apply(rec('k', 9, 'new'))
    stores.b.apply(rec('k', 9, 'new'))
    stores.c.apply(rec('k', 5, 'old'))
    const out = await coordinator.read('k', q(2, 3))
    expect(out.record?.value?.toString()).toBe('new')
    expect(out.stale).toEqual(['c'])
    await flush()
    expect((await readRepairs.get()).values[0]?.value).toBe(0)
    timeOutHanging()
    await flush()
    expect(stores.c.get('k')?.value?.toString()).toBe('old')
  })

  it("passes the client's deadline to every replica call, but not to read repair (it runs after the answer)", async () => {
    const { coordinator, stores, calls } = setup({ b: 'ok', c: 'ok' })
    await coordinator.write('k', Buffer.from('v'), q(2, 2), 42_000)
    stores.c.apply(rec('k', 1_000_000, 'newer'))
    await coordinator.read('k', q(2, 2), 43_000)
    await flush()
    expect(calls).toEqual([
      { op: 'put', peer: 'b', deadline: 42_000 },
      { op: 'put', peer: 'c', deadline: 42_000 },
      { op: 'get', peer: 'b', deadline: 43_000 },
      { op: 'get', peer: 'c', deadline: 43_000 },
      { op: 'put', peer: 'b', deadline: undefined }
    ])
  })

  it('a write after a read is stamped above the version read, whatever the local wall clock says', async () => {
    const { coordinator, stores, setWall } = setup({ b: 'ok', c: 'ok' }, { now: 1_000 })
    stores.b.apply(rec('k', 50_000, 'from the future', 'b'))
    await coordinator.read('k', q(2, 2))
    setWall(1_001)
    const out = await coordinator.write('k', Buffer.from('after'), q(2, 2))
    expect(out.record.version.t).toBe(50_000)
    expect(out.record.version.c).toBeGreaterThan(0)
  })
})
