import type { OpRecord } from './core/history.js'

/** One request a workload wants sent, and what it means for the history. */
export interface PlannedOp {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  path: string
  body?: string
  headers?: Record<string, string>
  kind: OpRecord['kind']
  key?: string
  value?: string
}

/** How a response turned out, in the history's terms. */
export interface Interpreted {
  outcome: 'ok' | 'fail'
  cause?: string
  output?: string | null
  found?: boolean
}

export type Shape = 'stateless' | 'pipeline' | 'leader' | 'quorum'

/** A stream of requests against one service of the public HTTP contract (shared/DESIGN.md). */
export interface Workload {
  name: string
  /** The registry name the workload needs: it is skipped when the cluster does not have it. */
  service: string
  shape: Shape
  /** Every request is a safe retry (GET): what the ≥ 99.9% target is about. */
  idempotent: boolean
  /** Default arrival rate, requests per second. */
  rate: number
  next: (seq: number, random: () => number) => PlannedOp
  interpret: (op: PlannedOp, status: number, body: string) => Interpreted
  /** Keys to read back once the load is over (register workloads). */
  keys?: () => string[]
}

/** A JSON error envelope's code, for failure causes: `http 503 GW_ERR_NO_UPSTREAM`. */
export function errorCause (status: number, body: string): string {
  let code = ''
  try { code = String((JSON.parse(body) as { error?: unknown }).error ?? '') } catch {}
  return `http ${status}${code === '' ? '' : ' ' + code}`
}

const okIf = (expected: (status: number) => boolean) => (_op: PlannedOp, status: number, body: string): Interpreted =>
  expected(status) ? { outcome: 'ok' } : { outcome: 'fail', cause: errorCause(status, body) }

/**
 * A register over HTTP (`PUT/GET/DELETE <base>/keys/:key`, value = raw body). A 404 counts as
 * "not found" only when the service said so; the gateway's own 404 (no route) is a failure.
 */
function registerWorkload (name: string, service: string, shape: Shape, runId: string, keyCount: number, rate: number): Workload {
  const keyOf = (i: number): string => `chaos-${runId}-${i}`
  const isServiceNotFound = (status: number, body: string): boolean => status === 404 && !errorCause(status, body).includes('GW_ERR')
  return {
    name,
    service,
    shape,
    idempotent: false,
    rate,
    next (seq, random) {
      const key = keyOf(Math.floor(random() * keyCount))
      const path = `/api/${service}/keys/${key}`
      const r = random()
      if (r < 0.5) return { method: 'GET', path, kind: 'read', key }
      if (r < 0.9) {
        const value = `${runId}-${seq}`
        return { method: 'PUT', path, body: value, headers: { 'content-type': 'application/octet-stream' }, kind: 'write', key, value }
      }
      return { method: 'DELETE', path, kind: 'delete', key }
    },
    interpret (op, status, body) {
      if (op.kind === 'read') {
        if (status === 200) return { outcome: 'ok', output: body }
        if (isServiceNotFound(status, body)) return { outcome: 'ok', output: null }
      } else if (op.kind === 'write') {
        if (status === 200 || status === 201 || status === 204) return { outcome: 'ok' }
      } else {
        if (status === 200 || status === 204) return { outcome: 'ok', found: true }
        if (isServiceNotFound(status, body)) return { outcome: 'ok', found: false }
      }
      return { outcome: 'fail', cause: errorCause(status, body) }
    },
    keys: () => Array.from({ length: keyCount }, (_, i) => keyOf(i))
  }
}

/** The chaos run's mixed load, one workload per service of the contract. */
export function chaosWorkloads (runId: string, keyCount = 16): Workload[] {
  return [
    { name: 'echo', service: 'echo', shape: 'stateless', idempotent: true, rate: 100, next: (seq) => ({ method: 'GET', path: `/api/echo/chaos/${seq}`, kind: 'request' }), interpret: okIf((s) => s === 200) },
    {
      name: 'compute',
      service: 'compute',
      shape: 'stateless',
      idempotent: true,
      rate: 20,
      // a few distinct small limits: mostly cache hits after the first round, some CPU work
      next: (seq) => ({ method: 'GET', path: `/api/compute/primes?limit=${10_000 + (seq % 25) * 1_000}`, kind: 'request' }),
      interpret: okIf((s) => s === 200)
    },
    {
      name: 'feed',
      service: 'feed',
      shape: 'pipeline',
      idempotent: false,
      rate: 50,
      next: (seq) => ({ method: 'POST', path: '/api/feed/events', body: JSON.stringify({ account: `chaos-${runId}-${seq % 8}`, amount: 1 + (seq % 7) }), headers: { 'content-type': 'application/json' }, kind: 'request' }),
      interpret: okIf((s) => s === 202 || s === 200 || s === 201)
    },
    registerWorkload('kv-leader', 'kv-leader', 'leader', runId, keyCount, 40),
    registerWorkload('kv-quorum', 'kv-quorum', 'quorum', runId, keyCount, 40)
  ]
}

/** `echo=100,kv-leader=20` → rates by workload name. */
export function parseRates (spec: string | undefined): Record<string, number> {
  const rates: Record<string, number> = {}
  if (spec === undefined || spec.trim() === '') return rates
  for (const part of spec.split(',')) {
    const [name, value] = part.split('=').map((s) => s.trim())
    const rate = Number(value)
    if (name === undefined || name === '' || !(rate >= 0 && rate <= 10_000)) throw new Error(`bad rate "${part}": expected <workload>=<requests per second 0–10000>`)
    rates[name] = rate
  }
  return rates
}
