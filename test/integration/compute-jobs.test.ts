import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { get, send } from './compute-helpers.js'
import { waitFor } from '../../shared/testing/wait.js'

let redis: TestRedis
let gateway: RunningProcess
const instances = new Map<string, RunningProcess>()

beforeAll(async () => {
  redis = await startRedis()
  const env = { REDIS_URL: redis.url, NINES_PREFIX: 'compute-jobs', COMPUTE_JOBS_VISIBILITY_MS: '1500', COMPUTE_JOBS_MAX_DEPTH: '50' }
  const started = await Promise.all(['compute-1', 'compute-2'].map(async (id) => await startInstance('compute', { ...env, INSTANCE_ID: id })))
  started.forEach((p, i) => instances.set(`compute-${i + 1}`, p))
  gateway = await startGateway(env)
  await waitFor(async () => (await get(`${gateway.url}/registry`)).body.services.compute?.length === 2)
})

afterAll(async () => {
  killAll()
  await redis?.stop()
})

async function job (id: string): Promise<any> {
  return (await get(`${gateway.url}/api/compute/jobs/${id}`)).body
}

describe('async compute jobs', () => {
  it('runs a job: 202 with an id and a status URL, then done with the result', async () => {
    const res = await send(`${gateway.url}/api/compute/jobs`, 'POST', { task: 'primes', params: { limit: 1_000_000 } })
    expect(res.status).toBe(202)
    expect(res.body.statusUrl).toBe(`/api/compute/jobs/${res.body.id as string}`)
    expect(res.headers.location).toBe(res.body.statusUrl)
    await waitFor(async () => (await job(res.body.id)).status === 'done', 10_000, 'job done')
    expect(await job(res.body.id)).toMatchObject({ status: 'done', task: 'primes', result: { count: 78_498 }, attempts: 1 })
  })

  it('returns the same job for a repeated Idempotency-Key', async () => {
    const body = { task: 'hash', params: { rounds: 1_000 } }
    const first = await send(`${gateway.url}/api/compute/jobs`, 'POST', body, { 'idempotency-key': 'order-42' })
    const second = await send(`${gateway.url}/api/compute/jobs`, 'POST', body, { 'idempotency-key': 'order-42' })
    expect(first.status).toBe(202)
    expect(second.status).toBe(202)
    expect(second.body.id).toBe(first.body.id)
    expect([first.body.created, second.body.created]).toEqual([true, false])
    const other = await send(`${gateway.url}/api/compute/jobs`, 'POST', body, { 'idempotency-key': 'order-43' })
    expect(other.body.id).not.toBe(first.body.id)
  })

  it('survives kill -9 of the instance running it', async () => {
    // ~2–3 s of hashing on one thread
    const res = await send(`${gateway.url}/api/compute/jobs`, 'POST', { task: 'hash', params: { rounds: 1_500_000, input: 'kill-me' } })
    expect(res.status).toBe(202)
    const id = res.body.id as string
    await waitFor(async () => (await job(id)).status === 'running', 5_000, 'job running')
    const holder = (await job(id)).instance as string
    instances.get(holder)!.signal('SIGKILL')
    await waitFor(async () => (await job(id)).status === 'done', 20_000, 'job done after the kill')
    const done = await job(id)
    expect(done.instance).not.toBe(holder)
    expect(done.attempts).toBe(2)
    expect(done.result.digest).toMatch(/^[0-9a-f]{64}$/)
  })

  it('refuses jobs with 503 while Redis is down, and runs them again once it is back (empty)', async () => {
    await redis.kill()
    const down = await send(`${gateway.url}/api/compute/jobs`, 'POST', { task: 'primes', params: { limit: 100 } })
    expect(down).toMatchObject({ status: 503, body: { error: 'COMPUTE_ERR_JOBS_UNAVAILABLE' }, headers: { 'retry-after': '1' } })
    await redis.restart()
    let id = ''
    await waitFor(async () => {
      const res = await send(`${gateway.url}/api/compute/jobs`, 'POST', { task: 'primes', params: { limit: 100 } })
      id = res.body.id
      return res.status === 202
    }, 10_000, 'a job accepted after the restart')
    // the consumer group vanished with the data: it is recreated and the job runs
    await waitFor(async () => (await job(id)).status === 'done', 10_000, 'the job done after the restart')
    expect((await job(id)).result).toEqual({ count: 25 })
  })

  it('refuses bad submissions with 400 JSON and unknown jobs with 404', async () => {
    const cases: Array<[unknown, string]> = [
      [{ task: 'fibonacci', params: { n: 3 } }, 'COMPUTE_ERR_UNKNOWN_TASK'],
      [{ task: 'primes', params: { limit: 'many' } }, 'COMPUTE_ERR_BAD_PARAM'],
      [{ task: 'primes', params: { limit: 10, pad: 'x'.repeat(10_000) } }, 'COMPUTE_ERR_PARAMS_TOO_LARGE'],
      [[1, 2], 'COMPUTE_ERR_BAD_PARAM']
    ]
    for (const [body, code] of cases) {
      const res = await send(`${gateway.url}/api/compute/jobs`, 'POST', body)
      expect(res.status, code).toBe(400)
      expect(res.body.error).toBe(code)
    }
    const badKey = await send(`${gateway.url}/api/compute/jobs`, 'POST', { task: 'primes', params: { limit: 10 } }, { 'idempotency-key': 'has space' })
    expect(badKey).toMatchObject({ status: 400, body: { error: 'COMPUTE_ERR_BAD_IDEMPOTENCY_KEY' } })
    const missing = await get(`${gateway.url}/api/compute/jobs/00000000-0000-0000-0000-000000000000`)
    expect(missing).toMatchObject({ status: 404, body: { error: 'COMPUTE_ERR_JOB_NOT_FOUND' } })
  })

  it('sheds submissions beyond the queue depth with 503 + Retry-After', async () => {
    const answers = []
    for (let i = 0; i < 55; i++) answers.push(await send(`${gateway.url}/api/compute/jobs`, 'POST', { task: 'hash', params: { rounds: 5_000_000 + i } }))
    const full = answers.filter((r) => r.status === 503)
    expect(answers.filter((r) => r.status === 202).length).toBeLessThanOrEqual(50)
    expect(full.length).toBeGreaterThanOrEqual(5)
    expect(full[0]).toMatchObject({ body: { error: 'COMPUTE_ERR_JOBS_FULL' }, headers: { 'retry-after': '1' } })
  })
})
