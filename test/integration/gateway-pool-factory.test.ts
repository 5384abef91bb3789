import type { AddressInfo } from 'node:net'
import { request, type Dispatcher, type Pool } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildGateway, type Gateway } from '../../gateway/src/app.js'
import { gatewaySpec } from '../../gateway/src/config.js'
import type { UpstreamDispatcher } from '../../gateway/src/upstreams/upstream.js'
import { loadConfig } from '../../shared/src/config.js'
import { createLogger } from '../../shared/src/logger.js'
import { createRedis, type Redis } from '../../shared/src/redis.js'
import type { Registrar } from '../../shared/src/registry/registrar.js'
import { waitFor } from '../../shared/testing/wait.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { registerFake } from '../support/fake-instance.js'

/**
 * The gateway's front door for connection pools (`buildGateway(…, { poolFactory })`): a gateway
 * whose instances' pools are fakes answering in memory. Nothing listens at the registered URLs;
 * every answer the client gets came through the injected factory, retries included.
 */
type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0]

/** Answers every request itself: a 200 naming its origin, or a refused connection. */
class AnsweringPool implements UpstreamDispatcher {
  readonly paths: string[] = []
  constructor (readonly origin: string, readonly refuse: boolean) {}

  dispatch (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.paths.push(options.path)
    const controller = { abort () {}, pause () {}, resume () {}, paused: false, aborted: false, reason: null } as unknown as Controller
    setImmediate(() => {
      handler.onRequestStart?.(controller, {})
      if (this.refuse) {
        handler.onResponseError?.(controller, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
        return
      }
      const body = Buffer.from(JSON.stringify({ via: this.origin }))
      handler.onResponseStart?.(controller, 200, { 'content-type': 'application/json', 'content-length': String(body.length) }, 'OK')
      handler.onResponseData?.(controller, body)
      handler.onResponseEnd?.(controller, {})
    })
    return true
  }

  async close (): Promise<void> {}
}

let redis: TestRedis
let client: Redis
let gateway: Gateway
let url: string
const registrars: Registrar[] = []
const pools = new Map<string, AnsweringPool>()
const refused = 'http://127.0.0.1:10'
const answering = 'http://127.0.0.1:9'

beforeAll(async () => {
  redis = await startRedis()
  client = createRedis(redis.url)
  const config = loadConfig(gatewaySpec, { REDIS_URL: redis.url, NINES_PREFIX: 'gw-factory', GW_SLOW_START_MS: '0', GW_HEDGE: 'off', LOG_LEVEL: 'warn' })
  gateway = buildGateway(config, createLogger({ service: 'gateway', instanceId: 'gateway-test', level: 'warn' }), {
    poolFactory: (origin: string, _options: Pool.Options) => {
      const pool = new AnsweringPool(origin, origin === refused)
      pools.set(origin, pool)
      return pool
    }
  })
  await gateway.start()
  await gateway.app.listen({ host: '127.0.0.1', port: 0 })
  url = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`
  for (const [id, at] of [['fake-refused', refused], ['fake-ok', answering]] as const) {
    registrars.push(await registerFake(client, 'gw-factory', { id, service: 'fake', url: at, policy: { balancer: 'round-robin' } }))
  }
  await waitFor(() => pools.size === 2, 5_000, 'both pools made through the factory')
})

afterAll(async () => {
  await Promise.all(registrars.map(async (r) => await r.stop()))
  await gateway?.stop()
  client?.disconnect()
  await redis?.stop()
})

describe('a gateway built with an injected pool factory', () => {
  it('sends every try through the pools it made, and retries a refused try on the other one', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await request(`${url}/api/fake/thing?n=${i}`)
      expect(res.statusCode).toBe(200)
      expect(await res.body.json()).toEqual({ via: answering })
    }
    // round-robin sent some first tries to the refusing pool; each went on to the answering one
    expect(pools.get(refused)?.paths.length).toBeGreaterThan(0)
    expect(pools.get(answering)?.paths).toHaveLength(4)
  })
})
