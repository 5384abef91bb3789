import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { killAll } from '../../shared/testing/processes.js'
import { KvCluster } from './kv-leader-harness.js'
import { call, startKvCluster, type KvCluster as QuorumCluster } from './kv-quorum-cluster.js'

/**
 * Conditional requests through the gateway (issue 14, item 13): a precondition is either honoured
 * or refused, never ignored. kv-leader's If-Match is an atomic compare-and-set with RFC 9110's
 * lists and strong comparison; kv-quorum cannot compare and set atomically and says so (501).
 */
async function ejections (gatewayUrl: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text()
  return [...text.matchAll(/^gateway_ejections_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0)
}

describe('kv-leader If-Match', () => {
  const kv = new KvCluster('kv-conditional-leader')
  let gw: string

  beforeAll(async () => {
    await kv.start({ gateway: true })
    gw = `${kv.gateway!.url}/api/kv-leader`
  })

  afterAll(async () => { await kv.stop() })

  const put = async (value: string, ifMatch?: string): Promise<{ status: number, version?: number, error?: string }> => {
    const res = await call(gw, 'PUT', '/keys/cas', value, ifMatch === undefined ? {} : { 'if-match': ifMatch })
    const body = res.json() as { version?: number, error?: string }
    return { status: res.status, ...(body.version !== undefined ? { version: body.version } : {}), ...(body.error !== undefined ? { error: body.error } : {}) }
  }

  it('takes a list of entity tags: the write happens when the current version is any of them', async () => {
    const first = await put('v1')
    expect(first.status).toBe(201)
    const second = await put('v2', `"999999", "${first.version!}"`)
    expect(second).toMatchObject({ status: 200 })
    expect(second.version).toBeGreaterThan(first.version!)
    expect(await put('v3', `"${first.version!}", "999999"`)).toMatchObject({ status: 412, error: 'KVL_ERR_VERSION_MISMATCH' })
  })

  it('compares strongly: a weak tag never matches, even of the current version', async () => {
    const current = (await call(gw, 'GET', '/keys/cas')).headers.etag!
    expect(await put('weak', `W/${current}`)).toMatchObject({ status: 412, error: 'KVL_ERR_VERSION_MISMATCH' })
    expect(await put('foreign', '"not-a-version"')).toMatchObject({ status: 412, error: 'KVL_ERR_VERSION_MISMATCH' })
    expect((await call(gw, 'GET', '/keys/cas')).text).toBe('v2')
    expect(await put('v3', current)).toMatchObject({ status: 200 })
  })

  it('answers 400 to a malformed If-Match, and blames no replica for any of it', async () => {
    expect(await put('x', '"1" "2"')).toMatchObject({ status: 400, error: 'KVL_ERR_BAD_IF_MATCH' })
    expect(await ejections(kv.gateway!.url)).toBe(0)
  })
})

describe('kv-quorum preconditions', () => {
  let cluster: QuorumCluster
  let gateway: RunningProcess
  let gw: string

  beforeAll(async () => {
    cluster = await startKvCluster('kv-conditional-quorum', {})
    gateway = await startGateway({ ...cluster.env, LOG_LEVEL: 'info', NINES_SERVICES: 'kv-quorum' })
    gw = `${gateway.url}/api/kv-quorum`
    await waitFor(async () => (await call(gw, 'PUT', '/keys/k', 'v1')).status === 200, 10_000, 'a first write through the gateway')
  })

  afterAll(async () => {
    killAll()
    await cluster?.cleanup()
  })

  it.each([
    ['PUT', 'if-match', '"1"'],
    ['PUT', 'if-none-match', '*'],
    ['PUT', 'if-unmodified-since', 'Sat, 01 Jan 2000 00:00:00 GMT'],
    ['DELETE', 'if-match', '*'],
    ['GET', 'if-none-match', '"1"']
  ] as const)('refuses %s with %s: %s (501), and does nothing', async (method, header, value) => {
    const res = await call(gw, method, '/keys/k', method === 'PUT' ? 'changed' : undefined, { [header]: value })
    expect(res.status).toBe(501)
    expect(res.json()).toMatchObject({ error: 'KVQ_ERR_PRECONDITION_UNSUPPORTED' })
    expect((await call(gw, 'GET', '/keys/k')).text).toBe('v1')
  })

  it('blames no replica for refusing them', async () => {
    expect(await ejections(gateway.url)).toBe(0)
  })
})
