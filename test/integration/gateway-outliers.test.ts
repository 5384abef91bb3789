import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedis, type Redis } from '../../shared/src/redis.js'
import { startGateway, startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { startFakeInstance, type FakeInstance } from '../support/fake-instance.js'

/**
 * An instance that answers 503 to everything while passing its health checks (it lost its Redis,
 * its pool is saturated): a scripted server registered as a member of `echo`, beside a real echo
 * instance. The gateway must retry idempotent requests on the peer, eject the sick one after
 * consecutive 503s, and still pass its 503 on when nothing else is left (issue 14, item 6).
 */
const prefix = 'gw-outliers'
let redis: TestRedis
let echo: RunningProcess
let gateway: RunningProcess
let sick: FakeInstance
let client: Redis
let sickHits = 0

beforeAll(async () => {
  redis = await startRedis()
  client = createRedis(redis.url)
  sick = await startFakeInstance(client, prefix, { id: 'echo-sick', service: 'echo' }, (app) => {
    app.all('/*', async (_request, reply) => {
      sickHits += 1
      return await reply.code(503).header('retry-after', '7').header('x-instance-id', 'echo-sick').send({ error: 'SICK_ERR_NO_REDIS', message: 'lost my Redis' })
    })
  })
  echo = await startInstance('echo', { REDIS_URL: redis.url, NINES_PREFIX: prefix, INSTANCE_ID: 'echo-1' })
  // a long ejection, so the test sees it whatever the machine's speed
  gateway = await startGateway({ REDIS_URL: redis.url, NINES_PREFIX: prefix, NINES_SERVICES: 'echo', GW_EJECT_BASE_MS: '20000' })
  await waitFor(async () => (await registry()).length === 2, 10_000, 'both instances in the gateway registry')
})

afterAll(async () => {
  await sick?.stop()
  client?.disconnect()
  killAll()
  await redis?.stop()
})

interface View { id: string, healthy: boolean, ejected: boolean, checks: string }
async function registry (): Promise<View[]> {
  const res = await request(`${gateway.url}/registry`)
  return ((await res.body.json()) as { services: Record<string, View[]> }).services.echo ?? []
}

async function metric (name: string): Promise<number> {
  const text = await (await request(`${gateway.url}/metrics`)).body.text()
  return [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0)
}

async function send (method: 'GET' | 'POST' | 'PUT', path: string): Promise<{ status: number, instance: string, body: string, retryAfter: string | undefined }> {
  const res = await request(`${gateway.url}/api/echo${path}`, { method, ...(method === 'GET' ? {} : { body: '{}', headers: { 'content-type': 'application/json' } }) })
  return { status: res.statusCode, instance: String(res.headers['x-instance-id']), body: await res.body.text(), retryAfter: res.headers['retry-after'] as string | undefined }
}

describe('503 from an instance', () => {
  it('passes a POST\'s 503 on as the instance sent it: a POST is not retried', async () => {
    let answer: Awaited<ReturnType<typeof send>> | undefined
    for (let i = 0; i < 40 && answer === undefined; i++) {
      const res = await send('POST', '/post')
      if (res.instance === 'echo-sick') answer = res
      else expect(res.status).toBe(200)
    }
    expect(answer).toBeDefined()
    expect(answer!.status).toBe(503)
    expect(JSON.parse(answer!.body)).toEqual({ error: 'SICK_ERR_NO_REDIS', message: 'lost my Redis' })
    expect(answer!.retryAfter).toBe('7')
  })

  it('retries an idempotent request on another instance, and ejects the one that keeps answering 503', async () => {
    const hitsBefore = sickHits
    const retriesBefore = await metric('gateway_retries_total')
    // a few at once, so the balancer spreads them (one at a time, it keeps to the faster)
    for (let batch = 0; batch < 8; batch++) {
      const answers = await Promise.all(Array.from({ length: 6 }, async (_, i) => await send(i % 2 === 0 ? 'GET' : 'PUT', `/idempotent-${batch}-${i}`)))
      for (const res of answers) {
        expect(res.status, res.body).toBe(200)
        expect(res.instance).toBe('echo-1')
      }
    }
    const sickTries = sickHits - hitsBefore
    expect(sickTries).toBeGreaterThanOrEqual(4) // with the POST's 503 above, the five in a row that ejected it
    expect(await metric('gateway_retries_total') - retriesBefore).toBe(sickTries)
    const view = (await registry()).find((v) => v.id === 'echo-sick')
    // out of rotation by outlier detection, although its health checks pass
    expect(view).toMatchObject({ ejected: true, healthy: false, checks: 'passing' })
    expect(await metric('gateway_ejections_total')).toBe(1)
  })

  it('never ejects the last instance: with the peer gone, the 503 is passed on', async () => {
    await echo.stop()
    await waitFor(async () => (await registry()).length === 1, 5_000, 'echo-1 deregistered')
    await sick.registrar.stop()
    await sick.registrar.start() // re-registered: a fresh upstream, not ejected
    await waitFor(async () => (await registry()).some((v) => v.id === 'echo-sick' && !v.ejected), 5_000, 'echo-sick back')
    for (let i = 0; i < 8; i++) {
      const res = await send('GET', `/alone-${i}`)
      expect(res.status).toBe(503)
      expect(JSON.parse(res.body)).toMatchObject({ error: 'SICK_ERR_NO_REDIS' })
    }
    expect((await registry()).find((v) => v.id === 'echo-sick')).toMatchObject({ ejected: false })
  })
})
