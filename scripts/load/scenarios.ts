import type autocannon from 'autocannon'
import { request } from 'undici'

/** What a scenario needs to know about where it runs. */
export interface ScenarioContext {
  gatewayUrl: string
  /** One echo instance's own URL, for the direct baseline. */
  echoDirectUrl?: string
  /** Share of writes in the key-value mixes, 0–1. */
  writeRatio: number
  /** Keys the key-value mixes spread over (populated before the run). */
  keyCount: number
}

export interface Scenario {
  name: string
  /** The service it needs in the registry; skipped otherwise. */
  service: string
  description: string
  /** Runs once before the measured run (populate keys, warm a cache). */
  prepare?: (ctx: ScenarioContext) => Promise<void>
  /** The autocannon target and requests. */
  target: (ctx: ScenarioContext) => Pick<autocannon.Options, 'url' | 'requests' | 'method' | 'body' | 'headers'>
}

const kvKey = (i: number): string => `load-${i}`

async function populate (ctx: ScenarioContext, service: string): Promise<void> {
  for (let i = 0; i < ctx.keyCount; i++) {
    const res = await request(`${ctx.gatewayUrl}/api/${service}/keys/${kvKey(i)}`, { method: 'PUT', body: `seed-${i}`, headers: { 'content-type': 'application/octet-stream' } })
    await res.body.dump()
    if (res.statusCode >= 300) throw new Error(`populating ${service}: PUT ${kvKey(i)} answered ${res.statusCode}`)
  }
}

function kvMix (service: string): Scenario['target'] {
  return (ctx) => {
    let n = 0
    return {
      url: ctx.gatewayUrl,
      requests: [{
        setupRequest: (req) => {
          n++
          const path = `/api/${service}/keys/${kvKey(n % ctx.keyCount)}`
          // a deterministic interleaving at the asked ratio (no randomness: runs compare)
          const write = Math.floor(n * ctx.writeRatio) !== Math.floor((n - 1) * ctx.writeRatio)
          return write
            ? { ...req, method: 'PUT', path, body: `v-${n}`, headers: { 'content-type': 'application/octet-stream' } }
            : { ...req, method: 'GET', path, body: undefined }
        }
      }]
    }
  }
}

/** Every scenario of `npm run load`, in the order they run. */
export const scenarios: readonly Scenario[] = [
  {
    name: 'echo-direct',
    service: 'echo',
    description: 'one echo instance without the gateway: the baseline of the overhead ratio',
    target: (ctx) => ({ url: `${ctx.echoDirectUrl ?? ctx.gatewayUrl}/load` })
  },
  {
    name: 'echo',
    service: 'echo',
    description: 'stateless pool through the gateway (balancing)',
    target: (ctx) => ({ url: `${ctx.gatewayUrl}/api/echo/load` })
  },
  {
    name: 'compute-cached',
    service: 'compute',
    description: 'the same primes query: cache hits',
    prepare: async (ctx) => { await (await request(`${ctx.gatewayUrl}/api/compute/primes?limit=100000`)).body.dump() },
    target: (ctx) => ({ url: `${ctx.gatewayUrl}/api/compute/primes?limit=100000` })
  },
  {
    name: 'compute-uncached',
    service: 'compute',
    description: 'a distinct primes query every request: misses, CPU on the worker pool',
    target: (ctx) => {
      // a random base so a second run does not hit the first run's cache
      let n = Math.floor(Math.random() * 1_000_000)
      return { url: ctx.gatewayUrl, requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: `/api/compute/primes?limit=${20_000 + (n++ % 5_000_000)}` }) }] }
    }
  },
  {
    name: 'feed-events',
    service: 'feed',
    description: 'POST input events to the feed (202)',
    target: (ctx) => {
      let n = 0
      return {
        url: ctx.gatewayUrl,
        requests: [{ setupRequest: (req) => ({ ...req, method: 'POST', path: '/api/feed/events', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: `load-${n++ % 100}`, amount: 1 }) }) }]
      }
    }
  },
  {
    name: 'kv-leader-mix',
    service: 'kv-leader',
    description: 'reads and writes on the single-leader store (writes acknowledged by a majority)',
    prepare: async (ctx) => { await populate(ctx, 'kv-leader') },
    target: kvMix('kv-leader')
  },
  {
    name: 'kv-quorum-mix',
    service: 'kv-quorum',
    description: 'reads and writes on the quorum store (W=2, R=2 of N=3)',
    prepare: async (ctx) => { await populate(ctx, 'kv-quorum') },
    target: kvMix('kv-quorum')
  }
]
