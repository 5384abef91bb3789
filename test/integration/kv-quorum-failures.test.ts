import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolve } from 'node:path'
import { projectRoot } from '../../scripts/lib/cluster.js'
import { killAll, spawnNode } from '../../shared/testing/processes.js'
import { call, ids, localRecord, startKvCluster, status, type KvCluster, type ReplicaId } from './kv-quorum-cluster.js'
import { waitFor } from '../../shared/testing/wait.js'

let kv: KvCluster

beforeAll(async () => {
  // anti-entropy off: whatever converges here converged through hints or read repair
  kv = await startKvCluster('kvq-fail', { KVQ_ANTI_ENTROPY_MS: '0', KVQ_HINT_INTERVAL_MS: '200', KVQ_REPLICA_TIMEOUT_MS: '1000' })
})

afterAll(async () => {
  killAll()
  await kv?.cleanup()
})

const url = (id: ReplicaId): string => kv.procs[id].url

/** A coordinator's kvq_hints_stored_total for one reason (why the replica missed the write). */
async function hintsStored (id: ReplicaId, reason: 'unregistered' | 'refused' | 'unknown'): Promise<number> {
  // one line, not the whole exposition: a fresh process prints `Nan` for the event-loop lag mean
  const line = (await call(url(id), 'GET', '/metrics')).text.split('\n').find((l) => l.startsWith('kvq_hints_stored_total{') && l.includes(`reason="${reason}"`))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

describe('kv-quorum: one replica killed', () => {
  const written = Array.from({ length: 10 }, (_, i) => `down-${i}`)

  it('W=2 writes and R=2 reads succeed, W=3 and R=3 fail with 503 and the count', async () => {
    expect((await call(url('kv-quorum-1'), 'PUT', '/keys/before?w=3', 'kept')).status).toBe(200)
    const c = kv.procs['kv-quorum-3']
    c.signal('SIGKILL')
    await c.exited
    for (const [i, key] of written.entries()) {
      const via = i % 2 === 0 ? 'kv-quorum-1' : 'kv-quorum-2'
      const put = await call(url(via), 'PUT', `/keys/${key}`, `v-${key}`)
      expect(put.status, key).toBe(200)
      expect(put.headers['x-kvq-quorum-reached']).toBe('2')
      expect(put.headers['x-kvq-replicas']?.split(',').sort()).toEqual(['kv-quorum-1', 'kv-quorum-2'])
    }
    for (const [i, key] of written.entries()) {
      const via = i % 2 === 0 ? 'kv-quorum-2' : 'kv-quorum-1'
      const get = await call(url(via), 'GET', `/keys/${key}`)
      expect(get.status, key).toBe(200)
      expect(get.text).toBe(`v-${key}`)
    }
    const all = await call(url('kv-quorum-1'), 'PUT', '/keys/needs-all?w=3', 'x')
    expect(all.status).toBe(503)
    expect(all.json()).toMatchObject({ error: 'KVQ_ERR_NO_QUORUM', asked: 3, reached: 2 })
    expect(all.json().message).toMatch(/w=3 asked, 2 acknowledged/)
    expect(all.headers['retry-after']).toBe('1')
    const readAll = await call(url('kv-quorum-2'), 'GET', '/keys/down-0?r=3')
    expect(readAll.status).toBe(503)
    expect(readAll.json()).toMatchObject({ error: 'KVQ_ERR_NO_QUORUM', asked: 3, reached: 2 })
    // the coordinators kept what kv-quorum-3 missed
    const hints = (await status(url('kv-quorum-1'))).hintsPending + (await status(url('kv-quorum-2'))).hintsPending
    expect(hints).toBeGreaterThanOrEqual(written.length)
    // a dead process refuses connections: the coordinators know it missed the writes
    let certain = 0
    for (const id of ['kv-quorum-1', 'kv-quorum-2'] as const) certain += await hintsStored(id, 'refused') + await hintsStored(id, 'unregistered')
    expect(certain).toBeGreaterThan(0)
  })

  it('when it returns it keeps its own data, R=2 reads are right at once, and the hints arrive', async () => {
    const c = await kv.start('kv-quorum-3')
    // persisted before the crash
    expect((await localRecord(c.url, 'before'))?.value).toBe('kept')
    // a quorum read through the returning replica is right even before its hints arrive
    const early = await call(c.url, 'GET', '/keys/down-9')
    expect(early.status).toBe(200)
    expect(early.text).toBe('v-down-9')
    await waitFor(async () => {
      const values = await Promise.all(written.map(async (key) => (await localRecord(c.url, key))?.value))
      return values.every((v, i) => v === `v-${written[i] as string}`)
    }, 10_000, 'hints delivered')
    await waitFor(async () => (await status(url('kv-quorum-1'))).hintsPending === 0 && (await status(url('kv-quorum-2'))).hintsPending === 0)
    // the write that failed its W=3 quorum still landed on the two that acknowledged it, and spread from there
    await waitFor(async () => (await localRecord(c.url, 'needs-all'))?.value === 'x')
  })
})

describe('kv-quorum: a frozen replica', () => {
  it('times out: R=2 and W=2 still succeed, W=3 answers 503 within the replica timeout', async () => {
    const b = kv.procs['kv-quorum-2']
    b.signal('SIGSTOP')
    try {
      expect((await call(url('kv-quorum-1'), 'PUT', '/keys/frozen', 'f1')).status).toBe(200)
      expect((await call(url('kv-quorum-3'), 'GET', '/keys/frozen')).text).toBe('f1')
      const unknownBefore = await hintsStored('kv-quorum-3', 'unknown')
      const refusedBefore = await hintsStored('kv-quorum-3', 'refused')
      const started = Date.now()
      const all = await call(url('kv-quorum-3'), 'PUT', '/keys/frozen?w=3', 'f2')
      expect(all.status).toBe(503)
      expect(all.json().reached).toBe(2)
      expect(Date.now() - started).toBeLessThan(3_000)
      // the frozen replica took the call and never answered: it may have the write, hinted as unknown
      expect(await hintsStored('kv-quorum-3', 'unknown')).toBe(unknownBefore + 1)
      expect(await hintsStored('kv-quorum-3', 'refused')).toBe(refusedBefore)
    } finally {
      b.signal('SIGCONT')
    }
    await waitFor(async () => (await localRecord(url('kv-quorum-2'), 'frozen'))?.value === 'f2', 10_000, 'frozen replica caught up')
  })
})

describe('kv-quorum: read repair', () => {
  it('a w=1 eventual write made while the others were paused converges after an R=3 read', async () => {
    const others = [kv.procs['kv-quorum-2'], kv.procs['kv-quorum-3']]
    for (const p of others) p.signal('SIGSTOP')
    let put
    try {
      put = await call(url('kv-quorum-1'), 'PUT', '/keys/rr-paused?w=1&consistency=eventual', 'fresh')
    } finally {
      for (const p of others) p.signal('SIGCONT')
    }
    expect(put.status).toBe(200)
    expect(put.headers['x-kvq-quorum-reached']).toBe('1')
    await waitFor(async () => (await call(url('kv-quorum-1'), 'GET', '/keys/rr-paused?r=3')).status === 200)
    const read = await call(url('kv-quorum-1'), 'GET', '/keys/rr-paused?r=3')
    expect(read.text).toBe('fresh')
    await waitFor(async () => (await Promise.all(ids.map(async (id) => (await localRecord(url(id), 'rr-paused'))?.value))).every((v) => v === 'fresh'))
  })

  it('repairs exactly the replicas a read found stale (no hint, no anti-entropy involved)', async () => {
    expect((await call(url('kv-quorum-1'), 'PUT', '/keys/rr-direct?w=3', 'old')).status).toBe(200)
    // a newer record lands on kv-quorum-1 alone, as if the other two had missed it with no hint kept
    const newer = { key: 'rr-direct', value: Buffer.from('new').toString('base64'), version: { t: Date.now() + 60_000, c: 0, n: 'kv-quorum-1' } }
    const direct = await call(url('kv-quorum-1'), 'PUT', '/internal/replica/records', JSON.stringify({ records: [newer] }), { 'content-type': 'application/json' })
    expect(direct.json()).toEqual({ applied: 1 })
    expect((await localRecord(url('kv-quorum-2'), 'rr-direct'))?.value).toBe('old')
    const read = await call(url('kv-quorum-2'), 'GET', '/keys/rr-direct?r=3')
    expect(read.status).toBe(200)
    expect(read.text).toBe('new')
    expect(read.headers['x-kvq-repaired']?.split(',').sort()).toEqual(['kv-quorum-2', 'kv-quorum-3'])
    await waitFor(async () => (await Promise.all(ids.map(async (id) => (await localRecord(url(id), 'rr-direct'))?.value))).every((v) => v === 'new'), 5_000, 'read repair')
  })

  it('refuses a malformed replica record with 400 and stores nothing', async () => {
    const bad = await call(url('kv-quorum-1'), 'PUT', '/internal/replica/records', JSON.stringify({ records: [{ key: 'x y', value: null, version: { t: 1, c: 0, n: 'a' } }] }), { 'content-type': 'application/json' })
    expect(bad.status).toBe(400)
    expect(bad.json().error).toBe('KVQ_ERR_BAD_RECORD')
  })
})

describe('kv-quorum: configuration', () => {
  it.each([
    ['W + R <= N without eventual', { KVQ_W: '1', KVQ_R: '2' }, /KVQ_CONSISTENCY=eventual/],
    ['an instance outside the replica set', { INSTANCE_ID: 'kv-quorum-9' }, /not in KVQ_REPLICAS/]
  ])('refuses to start with %s', async (_name, env, message) => {
    const proc = spawnNode(resolve(projectRoot, 'dist/services/kv-quorum/src/server.js'), { ...kv.env, INSTANCE_ID: 'kv-quorum-1', KVQ_DATA_DIR: kv.dataDirs['kv-quorum-1'] + '-unused', ...env })
    expect(await proc.exited).not.toBe(0)
    expect(proc.lines.join('\n')).toMatch(message)
  })
})
