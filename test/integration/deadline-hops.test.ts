import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { PeerClient } from '../../services/kv-quorum/src/adapters/peer-client.js'
import { SinkClient } from '../../services/ledger/src/adapters/sink-client.js'
import { startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import type { RegistryWatcher } from '../../shared/src/registry/watcher.js'
import { localRecord, startKvCluster, type KvCluster } from './kv-quorum-cluster.js'

/**
 * Deadlines on every internal hop (issue "Correct under every fault"): the caller of an internal
 * call stamps it with `x-request-deadline`, and a receiver that was frozen while the call waited
 * refuses it on waking instead of acting after its caller gave up and moved on. One test per hop
 * (kv-leader's follower → leader forward is in kv-leader-commit-order.test.ts).
 */
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

async function refusedLate (url: string, route: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text()
  const line = text.split('\n').find((l) => l.startsWith('http_server_requests_total') && l.includes(`route="${route}"`) && l.includes('status="503"'))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

describe('kv-quorum: coordinator → replica', () => {
  let cluster: KvCluster
  beforeAll(async () => { cluster = await startKvCluster('hop-kvq', { KVQ_ANTI_ENTROPY_MS: '0' }) })
  afterAll(async () => {
    killAll()
    await cluster?.cleanup()
  })

  it('a replica frozen while a replica write waited refuses it on waking: the write is not applied late', async () => {
    const replica = cluster.procs['kv-quorum-2']
    const peers = new PeerClient()
    replica.signal('SIGSTOP')
    try {
      // what a coordinator sends: the client's deadline caps the call's own timeout
      const late = peers.putRecords(replica.url, [{ key: 'hop', value: Buffer.from('late'), version: { t: Date.now(), c: 0, n: 'kv-quorum-1' } }], 5_000, Date.now() + 200)
      await expect(late).rejects.toThrow()
      await sleep(200)
    } finally {
      replica.signal('SIGCONT')
    }
    await sleep(300)
    expect(await localRecord(replica.url, 'hop')).toBeNull()
    expect(await refusedLate(replica.url, '/internal/replica/records')).toBeGreaterThanOrEqual(1)
    await peers.close()
  })
})

describe('ledger → sink', () => {
  let redis: TestRedis
  let sink: RunningProcess
  beforeAll(async () => {
    redis = await startRedis()
    sink = await startInstance('sink', { REDIS_URL: redis.url, NINES_PREFIX: 'hop-sink', INSTANCE_ID: 'sink-1' })
  })
  afterAll(async () => {
    killAll()
    await redis?.stop()
  })

  it('a sink frozen while a batch waited refuses it on waking: the ledger sent it elsewhere meanwhile', async () => {
    const client = new SinkClient({ instances: () => [] } as unknown as RegistryWatcher, { timeoutMs: 200 })
    sink.signal('SIGSTOP')
    try {
      const result = await client.send(sink.url, { pair: 'hot-hot', epoch: 0, holder: '', instance: 'ledger-hh-a', outputs: [{ inputId: '1-0', account: 'a', amount: 1, balance: 1 }] })
      expect(result.kind).toBe('failed')
      await sleep(200)
    } finally {
      sink.signal('SIGCONT')
    }
    await sleep(300)
    const stats = await (await request(`${sink.url}/stats`)).body.json() as Record<string, { outputs: number }>
    expect(stats['hot-hot']?.outputs ?? 0).toBe(0)
    expect(await refusedLate(sink.url, '/internal/outputs')).toBeGreaterThanOrEqual(1)
    await client.close()
  })
})
