import type { OpRecord } from './core/history.js'
import { errorCode, kvLeaderOutcome, kvQuorumOutcome, type KvMethod } from './core/kv-contract.js'
import { VersionBook, versionFromEtag } from './core/version-book.js'
import { namedNumbers } from '../cli.js'

/** One request a workload wants sent, and what it means for the history. */
export interface PlannedOp {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  path: string
  body?: string
  headers?: Record<string, string>
  kind: OpRecord['kind']
  key?: string
  value?: string
  /** The `If-Match` sent, and the value the workload knows that version holds. */
  ifMatch?: string
  ifValue?: string
}

/** How a response turned out, in the history's terms. */
export interface Interpreted {
  /** For the availability figures: the contract's answer (a 404 or 412 the store meant is `ok`). */
  outcome: 'ok' | 'fail'
  cause?: string
  /** The error code of the JSON envelope, for the checks' outcome table. */
  code?: string
  output?: string | null
  found?: boolean
  version?: number
  /** The id the feed acknowledged. */
  ackId?: string
}

export type ResponseHeaders = Record<string, string | string[] | undefined>

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
  interpret: (op: PlannedOp, status: number, body: string, headers?: ResponseHeaders) => Interpreted
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
  expected(status) ? { outcome: 'ok' } : failed(status, body)

function failed (status: number, body: string): Interpreted {
  const code = errorCode(body)
  return { outcome: 'fail', cause: errorCause(status, body), ...(code !== undefined ? { code } : {}) }
}

/** The feed accounts of a run: `chaos-<run>-<n>`. */
export const feedAccount = (runId: string, n: number): string => `chaos-${runId}-${n}`

/** The feed's 202 carries the id of the event it appended: the acknowledgement the pairs verify checks. */
function interpretFeed (_op: PlannedOp, status: number, body: string): Interpreted {
  if (status !== 202 && status !== 200 && status !== 201) return failed(status, body)
  let id: unknown
  try { id = (JSON.parse(body) as { id?: unknown }).id } catch {}
  return typeof id === 'string' && id !== '' ? { outcome: 'ok', ackId: id } : { outcome: 'fail', cause: `http ${status} without an id` }
}

/** Mix of a register workload, as fractions of all its requests. */
const mix = { read: 0.5, write: 0.4 }

/**
 * A register over HTTP (`PUT/GET/DELETE <base>/keys/:key`, value = raw body). Values are unique
 * per write. With `cas` (kv-leader), some writes and deletes carry an `If-Match` with a version
 * learned from earlier answers (the newest, so it usually holds; an older one, so it usually does
 * not; or `*`), and answers are read through the store's outcome table: a 404 or a 412 the
 * service meant is a correct answer, anything else that is not a success is a failure.
 */
function registerWorkload (name: string, service: string, shape: Shape, runId: string, keyCount: number, rate: number, cas: boolean): Workload {
  const keyOf = (i: number): string => `chaos-${runId}-${i}`
  const book = new VersionBook()
  const outcomeOf = cas ? kvLeaderOutcome : kvQuorumOutcome
  const precondition = (key: string, random: () => number, deleting: boolean): Pick<PlannedOp, 'ifMatch' | 'ifValue'> => {
    if (!cas) return {}
    const r = random()
    const newest = book.newest(key)
    const older = book.older(key, random())
    if (r < (deleting ? 0.3 : 0.25) && newest !== undefined) return { ifMatch: `"${newest.version}"`, ifValue: newest.value }
    if (r < (deleting ? 0.4 : 0.3)) return { ifMatch: '*' }
    if (r < (deleting ? 0.45 : 0.35) && older !== undefined) return { ifMatch: `"${older.version}"`, ifValue: older.value }
    return {}
  }
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
      if (r < mix.read) return { method: 'GET', path, kind: 'read', key }
      if (r < mix.read + mix.write) {
        const value = `${runId}-${seq}`
        const pre = precondition(key, random, false)
        return { method: 'PUT', path, body: value, headers: { 'content-type': 'application/octet-stream', ...(pre.ifMatch !== undefined ? { 'if-match': pre.ifMatch } : {}) }, kind: 'write', key, value, ...pre }
      }
      const pre = precondition(key, random, true)
      return { method: 'DELETE', path, ...(pre.ifMatch !== undefined ? { headers: { 'if-match': pre.ifMatch } } : {}), kind: 'delete', key, ...pre }
    },
    interpret (op, status, body, headers = {}) {
      const code = status >= 400 ? errorCode(body) : undefined
      const outcome = outcomeOf(op.kind as KvMethod, status, code)
      const withCode = code !== undefined ? { code } : {}
      const key = op.key ?? ''
      switch (outcome.kind) {
        case 'read': {
          const version = versionFromEtag(headers.etag)
          if (outcome.found && version !== undefined) book.learnValue(key, version, body)
          return { outcome: 'ok', output: outcome.found ? body : null, ...(version !== undefined ? { version } : {}), ...withCode }
        }
        case 'applied': {
          const version = answeredVersion(body, headers)
          if (version !== undefined && op.kind === 'write') book.learnValue(key, version, op.value ?? '')
          if (version !== undefined && op.kind === 'delete') book.learnDeleted(key, version)
          return { outcome: 'ok', ...(op.kind === 'delete' ? { found: true } : {}), ...(version !== undefined ? { version } : {}) }
        }
        case 'observed':
          // a 412 only means something when a precondition was sent
          if (outcome.what === 'precondition' && op.ifMatch === undefined) break
          return { outcome: 'ok', ...(outcome.what === 'absent' ? { found: false } : {}), ...withCode }
        default:
          break
      }
      return failed(status, body)
    },
    keys: () => Array.from({ length: keyCount }, (_, i) => keyOf(i))
  }
}

/** The version a write or delete answer carries: JSON `{"version"}`, else `x-kv-version` / `etag`. */
function answeredVersion (body: string, headers: ResponseHeaders): number | undefined {
  try {
    const v = (JSON.parse(body) as { version?: unknown }).version
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v
  } catch {}
  const header = headers['x-kv-version']
  const n = Number(Array.isArray(header) ? header[0] : header)
  return Number.isSafeInteger(n) && n > 0 ? n : versionFromEtag(headers.etag)
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
      // each event carries an Idempotency-Key (so the gateway may retry it) and an amount of its
      // own (so an event appended twice shows in the feed as two entries with one amount)
      next: (seq) => ({ method: 'POST', path: '/api/feed/events', body: JSON.stringify({ account: feedAccount(runId, seq % 8), amount: seq + 1 }), headers: { 'content-type': 'application/json', 'idempotency-key': `${runId}-e${seq}` }, kind: 'request' }),
      interpret: interpretFeed
    },
    registerWorkload('kv-leader', 'kv-leader', 'leader', runId, keyCount, 40, true),
    registerWorkload('kv-quorum', 'kv-quorum', 'quorum', runId, keyCount, 40, false)
  ]
}

/** `echo=100,kv-leader=20` → rates by workload name. */
export function parseRates (spec: string | undefined): Record<string, number> {
  const rates: Record<string, number> = {}
  for (const { name, value, part } of namedNumbers(spec)) {
    if (name === '' || !(value >= 0 && value <= 10_000)) throw new Error(`bad rate "${part}": expected <workload>=<requests per second 0–10000>`)
    rates[name] = value
  }
  return rates
}
