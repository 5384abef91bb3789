import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { killAll } from '../../shared/testing/processes.js'
import { deadlineHeader } from '../../shared/src/service/deadline.js'
import { call, startKvCluster, type KvCluster } from './kv-quorum-cluster.js'
import { waitFor } from '../../shared/testing/wait.js'

let cluster: KvCluster

beforeAll(async () => {
  cluster = await startKvCluster('kvq-late', { KVQ_ANTI_ENTROPY_MS: '0' })
})

afterAll(async () => {
  killAll()
  await cluster?.cleanup()
})

describe('a coordinator that wakes up after its caller gave up', () => {
  it('does not act on the late request, so an older PUT cannot overwrite a newer acknowledged one', async () => {
    const a = cluster.procs['kv-quorum-1']
    const b = cluster.procs['kv-quorum-2']
    a.signal('SIGSTOP')
    try {
      // the caller (the gateway) gives this try 300 ms, then retries elsewhere: here it just gives up
      const late = request(`${a.url}/keys/late`, {
        method: 'PUT',
        body: 'old',
        headers: { 'content-type': 'application/octet-stream', [deadlineHeader]: String(Date.now() + 300) },
        headersTimeout: 400
      }).catch((err: Error) => err)
      expect(await late).toBeInstanceOf(Error)
      const newer = await call(b.url, 'PUT', '/keys/late', 'new')
      expect(newer.status).toBeLessThan(300)
    } finally {
      a.signal('SIGCONT')
    }
    // give the thawed coordinator every chance to (wrongly) run the old request
    await new Promise((resolve) => setTimeout(resolve, 500))
    await waitFor(async () => (await call(a.url, 'GET', '/keys/late?r=3')).status === 200, 5_000, 'the thawed replica answers')
    for (const proc of [a, b, cluster.procs['kv-quorum-3']]) {
      const read = await call(proc.url, 'GET', '/keys/late?r=3')
      expect(read.text).toBe('new')
    }
  })
})
