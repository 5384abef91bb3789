import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type RunningProcess } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { call, ids, localRecord, startKvCluster, type KvCluster } from './kv-quorum-cluster.js'
import { waitFor } from '../../shared/testing/wait.js'

let kv: KvCluster
let gateway: RunningProcess

beforeAll(async () => {
  // kv-quorum-1 runs 3 s ahead, kv-quorum-3 5 s behind: every test here runs on skewed clocks
  kv = await startKvCluster('kvq-crud', { KVQ_ANTI_ENTROPY_MS: '300' }, {
    'kv-quorum-1': { KVQ_CLOCK_OFFSET_MS: '3000' },
    'kv-quorum-3': { KVQ_CLOCK_OFFSET_MS: '-5000' }
  })
  gateway = await startGateway({ ...kv.env, LOG_LEVEL: 'info' })
  await waitFor(async () => {
    const res = await call(gateway.url, 'GET', '/registry')
    return res.json().services['kv-quorum']?.length === 3
  })
})

afterAll(async () => {
  killAll()
  await kv?.cleanup()
})

const url = (id: string): string => kv.procs[id as keyof KvCluster['procs']].url

async function everywhere (key: string): Promise<Array<string | null | undefined>> {
  return await Promise.all(ids.map(async (id) => (await localRecord(url(id), key))?.value))
}

describe('kv-quorum: CRUD through any coordinator', () => {
  it('writes through the gateway and reads back from every coordinator, with quorum headers', async () => {
    const put = await call(gateway.url, 'PUT', '/api/kv-quorum/keys/k1', 'v1')
    expect(put.status).toBe(200)
    expect(put.headers['x-kvq-quorum-asked']).toBe('w=2')
    expect(Number(put.headers['x-kvq-quorum-reached'])).toBeGreaterThanOrEqual(2)
    expect(put.headers['x-kvq-replicas']?.split(',').length).toBeGreaterThanOrEqual(2)
    expect(put.headers['x-kvq-version']).toMatch(/^\d+\.\d+\.kv-quorum-\d$/)
    for (const id of ids) {
      const get = await call(url(id), 'GET', '/keys/k1')
      expect(get.status).toBe(200)
      expect(get.text).toBe('v1')
      expect(get.headers['x-instance-id']).toBe(id)
      expect(get.headers['x-kvq-quorum-asked']).toBe('r=2')
      expect(get.headers['x-kvq-version']).toBe(put.headers['x-kvq-version'])
    }
    const viaGateway = await call(gateway.url, 'GET', '/api/kv-quorum/keys/k1')
    expect(viaGateway.text).toBe('v1')
  })

  it('overwrites from another coordinator, deletes with a tombstone, then 404s', async () => {
    expect((await call(url('kv-quorum-2'), 'PUT', '/keys/k2', 'a')).status).toBe(200)
    // W=2 may answer before the third replica stored 'a': with skewed clocks, a coordinator that has
    // not seen 'a' could stamp 'b' below it (concurrent writes, last writer by clock: docs/kv-quorum.md).
    // 'b' is causally after 'a' once its coordinator holds 'a'.
    await waitFor(async () => (await everywhere('k2')).every((v) => v === 'a'))
    expect((await call(url('kv-quorum-3'), 'PUT', '/keys/k2', 'b')).status).toBe(200)
    expect((await call(url('kv-quorum-1'), 'GET', '/keys/k2')).text).toBe('b')
    const del = await call(url('kv-quorum-1'), 'DELETE', '/keys/k2')
    expect(del.status).toBe(200)
    expect(del.json()).toMatchObject({ key: 'k2', deleted: true })
    for (const id of ids) {
      const get = await call(url(id), 'GET', '/keys/k2')
      expect(get.status).toBe(404)
      expect(get.json().error).toBe('KVQ_ERR_NOT_FOUND')
    }
    // the delete is a tombstone on every replica, not an absence
    await waitFor(async () => (await everywhere('k2')).every((v) => v === null))
    const missing = await call(url('kv-quorum-2'), 'GET', '/keys/never-written')
    expect(missing.status).toBe(404)
    expect(missing.json().error).toBe('KVQ_ERR_NOT_FOUND')
  })

  it('stores any body as opaque bytes, JSON included', async () => {
    const json = '{"a": [1, 2]}'
    expect((await call(url('kv-quorum-1'), 'PUT', '/keys/doc', json, { 'content-type': 'application/json' })).status).toBe(200)
    const get = await call(url('kv-quorum-2'), 'GET', '/keys/doc')
    expect(get.text).toBe(json)
    expect(get.headers['content-type']).toBe('application/octet-stream')
  })

  it('never lets the gateway reach /internal routes', async () => {
    for (const path of ['/api/kv-quorum/internal/status', '/api/kv-quorum/%2Finternal/status', '/api/kv-quorum/keys/../internal/status', '/api/kv-quorum//internal/status']) {
      const res = await call(gateway.url, 'GET', path)
      expect(res.status, path).toBeGreaterThanOrEqual(400)
      expect(res.text, path).not.toContain('hintsPending')
    }
  })
})

describe('kv-quorum: bad input is refused and nothing is written', () => {
  const cases: Array<{ name: string, method: 'PUT' | 'GET' | 'DELETE', path: string, body?: string | Buffer, status: number, code: string }> = [
    { name: 'bad key', method: 'PUT', path: '/keys/bad%20key', body: 'x', status: 400, code: 'KVQ_ERR_BAD_KEY' },
    { name: 'key with a slash', method: 'PUT', path: '/keys/a%2Fb', body: 'x', status: 400, code: 'KVQ_ERR_BAD_KEY' },
    { name: 'key too long', method: 'PUT', path: `/keys/${'k'.repeat(257)}`, body: 'x', status: 400, code: 'KVQ_ERR_BAD_KEY' },
    { name: 'value too large', method: 'PUT', path: '/keys/bad-big', body: Buffer.alloc(65_537, 1), status: 413, code: 'KVQ_ERR_VALUE_TOO_LARGE' },
    { name: 'w above N', method: 'PUT', path: '/keys/bad-w?w=4', body: 'x', status: 400, code: 'KVQ_ERR_BAD_QUORUM' },
    { name: 'w zero', method: 'PUT', path: '/keys/bad-w0?w=0', body: 'x', status: 400, code: 'KVQ_ERR_BAD_QUORUM' },
    { name: 'w not a number', method: 'PUT', path: '/keys/bad-wx?w=two', body: 'x', status: 400, code: 'KVQ_ERR_BAD_QUORUM' },
    { name: 'r above N', method: 'GET', path: '/keys/k1?r=9', status: 400, code: 'KVQ_ERR_BAD_QUORUM' },
    { name: 'W+R<=N without eventual (write)', method: 'PUT', path: '/keys/bad-weak?w=1', body: 'x', status: 400, code: 'KVQ_ERR_BAD_QUORUM' },
    { name: 'W+R<=N without eventual (read)', method: 'GET', path: '/keys/k1?r=1', status: 400, code: 'KVQ_ERR_BAD_QUORUM' },
    { name: 'W+R<=N without eventual (delete)', method: 'DELETE', path: '/keys/k1?w=1&r=1', status: 400, code: 'KVQ_ERR_BAD_QUORUM' },
    { name: 'unknown consistency', method: 'PUT', path: '/keys/bad-c?w=1&consistency=maybe', body: 'x', status: 400, code: 'KVQ_ERR_BAD_QUORUM' }
  ]

  it.each(cases)('$name → $status $code', async ({ method, path, body, status, code }) => {
    const res = await call(url('kv-quorum-2'), method, path, body)
    expect(res.status).toBe(status)
    expect(res.json().error).toBe(code)
    expect(typeof res.json().message).toBe('string')
  })

  it('left nothing behind and k1 untouched', async () => {
    for (const key of ['bad-big', 'bad-w', 'bad-w0', 'bad-wx', 'bad-weak', 'bad-c']) {
      expect(await everywhere(key), key).toEqual([undefined, undefined, undefined])
    }
    expect(await everywhere('k1')).toEqual(['v1', 'v1', 'v1'])
    // a weak quorum is fine once eventual consistency is asked for explicitly
    const weak = await call(url('kv-quorum-2'), 'PUT', '/keys/weak-ok?w=1&r=1&consistency=eventual', 'x')
    expect(weak.status).toBe(200)
    expect(weak.headers['x-kvq-consistency']).toBe('eventual')
  })
})

describe('kv-quorum: ordering', () => {
  it('concurrent writes from different coordinators converge to one value everywhere', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`
      const puts = await Promise.all(ids.map(async (id) => await call(url(id), 'PUT', `/keys/${key}`, `from-${id}`)))
      expect(puts.map((p) => p.status)).toEqual([200, 200, 200])
      await waitFor(async () => new Set(await everywhere(key)).size === 1, 5_000, `${key} converged`)
      const [winner] = await everywhere(key)
      // the winner is the write with the greatest version (HLC, then instance id)
      const versions = puts.map((p) => p.headers['x-kvq-version'] as string)
      const newest = versions.sort((a, b) => cmp(a, b)).at(-1)
      expect(winner).toBe(`from-${newest?.split('.').slice(2).join('.')}`)
      for (const id of ids) expect((await call(url(id), 'GET', `/keys/${key}?r=3`)).text).toBe(winner)
    }
  })

  it('a clock 8 s behind another does not let the older write win', async () => {
    // kv-quorum-1 is 3 s ahead: its write carries a wall time 8 s past kv-quorum-3's clock
    expect((await call(url('kv-quorum-1'), 'PUT', '/keys/skew?w=3', 'older')).status).toBe(200)
    const newer = await call(url('kv-quorum-3'), 'PUT', '/keys/skew', 'newer')
    expect(newer.status).toBe(200)
    for (const id of ids) expect((await call(url(id), 'GET', '/keys/skew?r=3')).text).toBe('newer')
    await waitFor(async () => (await everywhere('skew')).every((v) => v === 'newer'))
  })
})

describe('kv-quorum: through the gateway with a replica killed', () => {
  it('every default read and write succeeds, and the replica catches up when it returns', async () => {
    const victim = kv.procs['kv-quorum-2']
    victim.signal('SIGKILL')
    await victim.exited
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) {
      const put = await call(gateway.url, 'PUT', `/api/kv-quorum/keys/gw-${i}`, `g${i}`)
      const get = await call(gateway.url, 'GET', `/api/kv-quorum/keys/gw-${i}`)
      statuses.push(put.status, get.status)
      expect(get.text).toBe(`g${i}`)
    }
    expect(statuses.every((s) => s === 200)).toBe(true)
    const back = await kv.start('kv-quorum-2')
    await waitFor(async () => (await Promise.all(Array.from({ length: 30 }, async (_, i) => (await localRecord(back.url, `gw-${i}`))?.value === `g${i}`))).every(Boolean), 10_000, 'returned replica caught up')
  })
})

describe('kv-quorum: anti-entropy', () => {
  it('restores a replica whose data directory was wiped', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `ae-${i}`)
    for (const key of keys) expect((await call(url('kv-quorum-1'), 'PUT', `/keys/${key}?w=3`, `val-${key}`)).status).toBe(200)
    const victim = kv.procs['kv-quorum-3']
    victim.signal('SIGKILL')
    await victim.exited
    rmSync(kv.dataDirs['kv-quorum-3'], { recursive: true, force: true })
    const back = await kv.start('kv-quorum-3')
    expect(await localRecord(back.url, 'ae-0')).toBeNull() // really empty
    await waitFor(async () => {
      const values = await Promise.all(keys.map(async (key) => (await localRecord(back.url, key))?.value))
      return values.every((v, i) => v === `val-${keys[i] as string}`)
    }, 15_000, 'wiped replica restored')
    expect((await localRecord(back.url, 'k1'))?.value).toBe('v1')
    expect((await localRecord(back.url, 'k2'))?.value).toBeNull() // tombstones come back too
  })
})

function cmp (a: string, b: string): number {
  const [at, ac, ...an] = a.split('.')
  const [bt, bc, ...bn] = b.split('.')
  return Number(at) - Number(bt) || Number(ac) - Number(bc) || (an.join('.') < bn.join('.') ? -1 : an.join('.') > bn.join('.') ? 1 : 0)
}
