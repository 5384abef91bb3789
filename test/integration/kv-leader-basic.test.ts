import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ids, kv, KvCluster } from './kv-leader-harness.js'
import { waitFor } from '../../shared/testing/wait.js'

// a long lease: these cases are not about failover, and a loaded machine must not move the leader
const cluster = new KvCluster('kvl-basic', { KV_LEASE_TTL_MS: '2000', KV_LEASE_RENEW_MS: '100' })
let leader: string

beforeAll(async () => {
  await cluster.start({ gateway: true })
  leader = await cluster.waitForLeader()
})

afterAll(async () => { await cluster.stop() })

const api = (): string => `${cluster.gateway!.url}/api/kv-leader`

describe('kv-leader through the gateway', () => {
  it('creates, reads, updates and deletes a key with versions', async () => {
    leader = await cluster.waitForLeader()
    const created = await kv(api(), 'PUT', '/keys/k1', 'v1')
    expect(created.status).toBe(201)
    const v1 = JSON.parse(created.text) as { version: number, created: boolean }
    expect(v1.created).toBe(true)
    expect(created.headers.etag).toBe(`"${v1.version}"`)

    const read = await kv(api(), 'GET', '/keys/k1')
    expect(read.status).toBe(200)
    expect(read.text).toBe('v1')
    expect(read.headers['x-kv-version']).toBe(String(v1.version))
    expect(read.headers['x-instance-id']).toBe(leader)

    const updated = await kv(api(), 'PUT', '/keys/k1', 'v2', { 'content-type': 'application/json' })
    expect(updated.status).toBe(200)
    const v2 = JSON.parse(updated.text) as { version: number }
    expect(v2.version).toBeGreaterThan(v1.version)
    expect((await kv(api(), 'GET', '/keys/k1')).text).toBe('v2')

    const deleted = await kv(api(), 'DELETE', '/keys/k1')
    expect(deleted.status).toBe(200)
    const gone = await kv(api(), 'GET', '/keys/k1')
    expect(gone.status).toBe(404)
    expect(JSON.parse(gone.text).error).toBe('KVL_ERR_NOT_FOUND')
    expect((await kv(api(), 'DELETE', '/keys/k1')).status).toBe(404)
  })

  it('compare-and-set with If-Match: 412 on a wrong version, nothing changes', async () => {
    const first = JSON.parse((await kv(api(), 'PUT', '/keys/cas', 'a')).text) as { version: number }
    const wrong = await kv(api(), 'PUT', '/keys/cas', 'b', { 'if-match': `"${first.version + 1000}"` })
    expect(wrong.status).toBe(412)
    expect(JSON.parse(wrong.text).error).toBe('KVL_ERR_VERSION_MISMATCH')
    expect((await kv(api(), 'GET', '/keys/cas')).text).toBe('a')
    const right = await kv(api(), 'PUT', '/keys/cas', 'c', { 'if-match': `"${first.version}"` })
    expect(right.status).toBe(200)
    const stale = await kv(api(), 'DELETE', '/keys/cas', undefined, { 'if-match': `"${first.version}"` })
    expect(stale.status).toBe(412)
    expect((await kv(api(), 'GET', '/keys/cas')).text).toBe('c')
    expect((await kv(api(), 'PUT', '/keys/missing-cas', 'x', { 'if-match': '*' })).status).toBe(412)
  })

  it('replicates to followers (eventual reads there) and forwards writes sent to a follower', async () => {
    leader = await cluster.waitForLeader()
    const follower = ids.find((id) => id !== leader)!
    const forwarded = await kv(cluster.url(follower), 'PUT', '/keys/fwd', 'through-a-follower')
    expect(forwarded.status).toBe(201)
    expect(forwarded.headers['x-kv-served-by']).toBe(leader)
    for (const id of ids) {
      await waitFor(async () => (await kv(cluster.url(id), 'GET', '/keys/fwd?consistency=eventual')).text === 'through-a-follower', 3_000, `replica ${id} sees the write`)
    }
    const eventual = await kv(cluster.url(follower), 'GET', '/keys/fwd?consistency=eventual')
    expect(eventual.headers['x-instance-id']).toBe(follower)
    expect(eventual.headers['x-kv-lag']).toBeDefined()
    const viaGateway = await kv(api(), 'GET', '/keys/fwd?consistency=eventual')
    expect(viaGateway.status).toBe(200)
  })

  it('refuses bad input with 4xx JSON and changes nothing', async () => {
    const long = await kv(api(), 'PUT', `/keys/${'k'.repeat(300)}`, 'x')
    expect(long.status).toBe(400)
    expect(JSON.parse(long.text).error).toBe('KVL_ERR_BAD_KEY')
    const badChars = await kv(api(), 'PUT', '/keys/a%20b', 'x')
    expect(badChars.status).toBe(400)
    expect(JSON.parse(badChars.text).error).toBe('KVL_ERR_BAD_KEY')
    const big = await kv(cluster.url(leader), 'PUT', '/keys/big', Buffer.alloc(1_048_577, 1))
    expect(big.status).toBe(413)
    expect(JSON.parse(big.text).error).toMatch(/PAYLOAD_TOO_LARGE|VALUE_TOO_LARGE/)
    const bigViaGw = await kv(api(), 'PUT', '/keys/big', Buffer.alloc(1_048_577, 1))
    expect(bigViaGw.status).toBe(413)
    expect((await kv(api(), 'GET', '/keys/big')).status).toBe(404)
    const badIfMatch = await kv(api(), 'PUT', '/keys/x', 'x', { 'if-match': 'nope' })
    expect(badIfMatch.status).toBe(400)
    expect((await kv(api(), 'GET', '/keys/x?consistency=weird')).status).toBe(400)
    const exact = await kv(api(), 'PUT', '/keys/exact', Buffer.alloc(1_048_576, 2))
    expect(exact.status).toBe(201)
  })

  it('keeps internal routes out of the gateway', async () => {
    for (const path of ['/internal/status', '/%69nternal/status', '/x/../internal/status', '//internal/status']) {
      const res = await kv(api(), 'GET', path)
      expect(res.status).toBeGreaterThanOrEqual(400)
      expect(res.text).not.toContain('commitIndex')
    }
  })

  it('exposes its protocol position and outcomes as Prometheus series', async () => {
    leader = await cluster.waitForLeader()
    const text = (await kv(cluster.url(leader), 'GET', '/metrics')).text
    expect(text).toMatch(/^kv_leader_is_leader\{[^}]*\} 1$/m)
    expect(text).toMatch(/^kv_leader_writes_total\{[^}]*outcome="acked"[^}]*\} [1-9]/m)
    expect(text).toMatch(/^kv_leader_leadership_changes_total\{[^}]*change="elected"[^}]*\} 1$/m)
    expect(text).toMatch(/^kv_leader_commit_index\{[^}]*\} [1-9]/m)
  })

  it('the gateway is ready once the replica set is up', async () => {
    const ready = await kv(cluster.gateway!.url, 'GET', '/readyz')
    expect(ready.status).toBe(200)
  })

  it('shows the leader in the gateway registry', async () => {
    leader = await cluster.waitForLeader()
    await waitFor(async () => {
      const res = await kv(cluster.gateway!.url, 'GET', '/registry')
      const list = JSON.parse(res.text).services['kv-leader'] as Array<{ id: string, role: string }>
      return list.length === 3 && list.filter((i) => i.role === 'leader').map((i) => i.id).join() === leader
    }, 3_000, 'registry shows the leader')
  })
})
