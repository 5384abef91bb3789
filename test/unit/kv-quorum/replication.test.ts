import { describe, expect, it } from 'vitest'
import { bucketDigests, bucketOf, differingBuckets, exchangeBucket } from '../../../services/kv-quorum/src/core/digest.js'
import { HintBook } from '../../../services/kv-quorum/src/core/hints.js'
import { resolveRead } from '../../../services/kv-quorum/src/core/read-resolution.js'
import { fromWire, isKey, toWire, type KvRecord } from '../../../services/kv-quorum/src/core/record.js'
import { VersionedStore } from '../../../services/kv-quorum/src/core/store.js'
import { HybridClock } from '../../../services/kv-quorum/src/core/hlc.js'
import { LocalReplica } from '../../../services/kv-quorum/src/replica.js'

const rec = (key: string, t: number, value: string | null = `v${t}`, n = 'a'): KvRecord => ({ key, value: value === null ? null : Buffer.from(value), version: { t, c: 0, n } })

describe('VersionedStore', () => {
  it('keeps the newest version whatever the order of arrival', () => {
    const writes = [rec('k', 1), rec('k', 3), rec('k', 2), rec('k', 3)]
    const forward = new VersionedStore()
    const backward = new VersionedStore()
    expect(writes.map((w) => forward.apply(w))).toEqual(['applied', 'applied', 'stale', 'same'])
    for (const w of [...writes].reverse()) backward.apply(w)
    expect(forward.get('k')).toEqual(backward.get('k'))
    expect(forward.get('k')?.version.t).toBe(3)
  })

  it('collects only tombstones older than the cut-off', () => {
    const s = new VersionedStore()
    s.apply(rec('old-del', 10, null))
    s.apply(rec('new-del', 100, null))
    s.apply(rec('old-val', 10))
    expect(s.collectTombstones(50)).toBe(1)
    expect([...s.records()].map((r) => r.key).sort()).toEqual(['new-del', 'old-val'])
  })
})

describe('resolveRead', () => {
  it('returns the newest and lists the replicas behind it, missing ones included', () => {
    const out = resolveRead([
      { replica: 'a', record: rec('k', 1) },
      { replica: 'b', record: rec('k', 5) },
      { replica: 'c', record: undefined }
    ])
    expect(out.newest?.version.t).toBe(5)
    expect(out.stale.sort()).toEqual(['a', 'c'])
  })

  it('treats a tombstone as the newest answer when it is', () => {
    const out = resolveRead([{ replica: 'a', record: rec('k', 9, null) }, { replica: 'b', record: rec('k', 2) }])
    expect(out.newest?.value).toBeNull()
    expect(out.stale).toEqual(['b'])
  })

  it('has nothing to repair when nobody has the key', () => {
    expect(resolveRead([{ replica: 'a', record: undefined }])).toEqual({ newest: undefined, stale: [] })
  })
})

describe('HintBook', () => {
  it('keeps the newest hint per replica and key, and forgets delivered ones', () => {
    const book = new HintBook(10)
    book.add('c', rec('k', 1))
    book.add('c', rec('k', 3))
    book.add('c', rec('k', 2))
    book.add('b', rec('j', 1))
    expect(book.count()).toBe(2)
    const batch = book.peek('c', 10)
    expect(batch.map((r) => r.version.t)).toEqual([3])
    book.delivered('c', batch)
    expect(book.count('c')).toBe(0)
    expect(book.replicas()).toEqual(['b'])
  })

  it('does not forget a hint superseded while its delivery was in flight', () => {
    const book = new HintBook(10)
    book.add('c', rec('k', 1))
    const batch = book.peek('c', 10)
    book.add('c', rec('k', 2))
    book.delivered('c', batch)
    expect(book.peek('c', 10).map((r) => r.version.t)).toEqual([2])
  })

  it('drops hints beyond its bound (anti-entropy covers them)', () => {
    const book = new HintBook(2)
    expect([book.add('c', rec('a', 1)), book.add('c', rec('b', 1)), book.add('c', rec('x', 1))]).toEqual([true, true, false])
    expect(book.dropped).toBe(1)
  })
})

describe('anti-entropy digests', () => {
  it('agree on equal data, whatever the order', () => {
    const records = Array.from({ length: 50 }, (_, i) => rec(`k${i}`, i))
    expect(bucketDigests(records, 8)).toEqual(bucketDigests([...records].reverse(), 8))
  })

  it('point at the bucket that differs', () => {
    const records = Array.from({ length: 50 }, (_, i) => rec(`k${i}`, i))
    const changed = records.map((r) => r.key === 'k7' ? rec('k7', 99) : r)
    expect(differingBuckets(bucketDigests(records, 8), bucketDigests(changed, 8))).toEqual([bucketOf('k7', 8)])
  })

  it('exchange pulls what is newer there and pushes what is newer here', () => {
    const mine = [rec('a', 1), rec('b', 5), rec('only-mine', 1)]
    const theirs = [rec('a', 2), rec('b', 4), rec('only-theirs', 1, null)]
    const { pull, push } = exchangeBucket(mine, theirs)
    expect(pull.map((r) => r.key).sort()).toEqual(['a', 'only-theirs'])
    expect(push.map((r) => r.key).sort()).toEqual(['b', 'only-mine'])
  })
})

describe('records on the wire', () => {
  it('round-trip values and tombstones', () => {
    for (const r of [rec('k', 1, 'héllo'), rec('k', 2, null)]) expect(fromWire(JSON.parse(JSON.stringify(toWire(r))))).toEqual(r)
  })

  it.each([
    { key: 'bad key', value: null, version: { t: 1, c: 0, n: 'a' } },
    { key: 'k', value: 5, version: { t: 1, c: 0, n: 'a' } },
    { key: 'k', value: null, version: { t: 'x', c: 0, n: 'a' } },
    null
  ])('refuses %j', (w) => {
    expect(fromWire(w)).toBeUndefined()
  })

  it.each([['k1', true], ['a.b-c_d:e', true], ['', false], ['a/b', false], ['a b', false], ['k'.repeat(257), false], ['.', false], ['..', false], ['...', true]])('isKey(%j) → %s', (key, ok) => {
    expect(isKey(key)).toBe(ok)
  })
})

describe('digests of an unchanged replica (anti-entropy on an idle cluster)', () => {
  const replicaOver = (store: VersionedStore): LocalReplica =>
    new LocalReplica({ store, log: { append: async () => {}, compact: async () => {} }, clock: new HybridClock(() => 1_000), wallNow: () => 1_000, tombstoneGraceMs: 100, digestBuckets: 8 })

  it('counts changes: applied records and collected tombstones, not stale or repeated ones', () => {
    const store = new VersionedStore()
    store.apply(rec('a', 5))
    expect(store.changes).toBe(1)
    store.apply(rec('a', 5)) // same
    store.apply(rec('a', 4)) // stale
    expect(store.changes).toBe(1)
    store.apply(rec('b', 1, null)) // a tombstone
    expect(store.collectTombstones(10)).toBe(1)
    expect(store.changes).toBe(3)
  })

  it('computes them once per change, and recomputes them after one', () => {
    const store = new VersionedStore()
    for (let i = 0; i < 20; i++) store.apply(rec(`k${i}`, i + 1))
    const replica = replicaOver(store)
    const first = replica.digests()
    expect(replica.digests()).toBe(first) // the same array: nothing was hashed again
    expect(first).toEqual(bucketDigests(store.records(), 8))
    store.apply(rec('k3', 100))
    const second = replica.digests()
    expect(second).not.toBe(first)
    expect(second).toEqual(bucketDigests(store.records(), 8))
  })
})
