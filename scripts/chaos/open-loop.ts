import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import type { OpRecord } from './core/history.js'
import { seededRandom } from '../../shared/testing/random.js'
import type { PlannedOp, Workload } from './workloads.js'

export interface LoadPlan { workload: Workload, rate: number }

export interface OpenLoopOptions {
  gatewayUrl: string
  plans: readonly LoadPlan[]
  durationMs: number
  /** Requests in flight at once, all workloads together; past it an arrival fails as `client saturated`. @default 2_000 */
  maxInflight?: number
  seed: number
  /** Monotonic ms since the run started. */
  clock: () => number
  /** Stops issuing new requests early. */
  signal?: AbortSignal
}

/**
 * The chaos run's client: open-loop, so arrivals follow a fixed rate whatever the cluster does.
 * A closed-loop client (autocannon's) waits for a response before its next request, so a stall
 * sends fewer requests and the stall hides (coordinated omission); here the i-th request of a
 * workload is due at i / rate seconds, latency is counted from that due time, and a request that
 * cannot be sent because too many are in flight is a failure, not a skipped sample.
 */
export class OpenLoopClient {
  readonly records: OpRecord[] = []
  readonly #pool: Pool
  readonly #timeoutMs: number
  readonly #clock: () => number
  #seq = 0
  #inflight = 0

  /**
   * `timeoutMs`: a request with no answer after this long is a timeout (outcome unknown). Just
   * over the gateway's own deadline (GW_DEADLINE_MS, 10 s), so the gateway's verdict comes first.
   */
  constructor (gatewayUrl: string, clock: () => number, timeoutMs = 11_000, connections = 512) {
    this.#pool = new Pool(gatewayUrl, { connections, keepAliveTimeout: 10_000, headersTimeout: timeoutMs + 1_000, bodyTimeout: timeoutMs + 1_000 })
    this.#timeoutMs = timeoutMs
    this.#clock = clock
  }

  get inflight (): number { return this.#inflight }

  async run (opts: OpenLoopOptions): Promise<void> {
    const maxInflight = opts.maxInflight ?? 2_000
    const streams = opts.plans.filter((p) => p.rate > 0).map((p, i) => ({
      ...p,
      intervalMs: 1_000 / p.rate,
      sent: 0,
      total: Math.floor(p.rate * opts.durationMs / 1_000),
      random: seededRandom((opts.seed * 31 + i + 1) >>> 0)
    }))
    const start = this.#clock()
    const pending = new Set<Promise<OpRecord>>()
    while (!(opts.signal?.aborted ?? false)) {
      const now = this.#clock()
      let nextDue = Infinity
      for (const s of streams) {
        while (s.sent < s.total && start + s.sent * s.intervalMs <= now) {
          const intended = start + s.sent * s.intervalMs
          const op = s.workload.next(s.sent, s.random)
          s.sent++
          if (this.#inflight >= maxInflight) {
            this.#record(s.workload, op, intended, undefined, this.#clock(), { outcome: 'fail', cause: 'client saturated' }, 'load')
            continue
          }
          const p = this.send(s.workload, op, intended, 'load')
          pending.add(p)
          void p.finally(() => pending.delete(p))
        }
        if (s.sent < s.total) nextDue = Math.min(nextDue, start + s.sent * s.intervalMs)
      }
      if (nextDue === Infinity) break
      await sleep(Math.max(0, Math.min(50, nextDue - this.#clock())))
    }
    await Promise.all(pending)
  }

  /** Sends one request and records it; never throws. */
  async send (workload: Workload, op: PlannedOp, intended: number, phase: OpRecord['phase']): Promise<OpRecord> {
    this.#inflight++
    const invoke = this.#clock()
    try {
      const res = await this.#pool.request({
        method: op.method,
        path: op.path,
        ...(op.body !== undefined ? { body: op.body } : {}),
        ...(op.headers !== undefined ? { headers: op.headers } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs)
      })
      const body = await res.body.text()
      const complete = this.#clock()
      const instance = res.headers['x-instance-id']
      return this.#record(workload, op, intended, invoke, complete, workload.interpret(op, res.statusCode, body, res.headers), phase, res.statusCode, typeof instance === 'string' ? instance : undefined)
    } catch (err) {
      return this.#record(workload, op, intended, invoke, this.#clock(), { outcome: 'fail', cause: failureCause(err) }, phase)
    } finally {
      this.#inflight--
    }
  }

  async close (): Promise<void> {
    await this.#pool.close()
  }

  #record (workload: Workload, op: PlannedOp, intended: number, invoke: number | undefined, complete: number, result: ReturnType<Workload['interpret']>, phase: OpRecord['phase'], status?: number, instance?: string): OpRecord {
    const record = opRecord(workload, op, { seq: this.#seq++, intended, invoke, complete }, result, phase, status, instance)
    this.records.push(record)
    return record
  }
}

/** One operation's history record: the operation as planned, its times, and how its answer was read. */
export function opRecord (workload: Pick<Workload, 'name' | 'idempotent'>, op: PlannedOp, times: { seq: number, intended: number, invoke: number | undefined, complete: number }, result: ReturnType<Workload['interpret']>, phase: OpRecord['phase'], status?: number, instance?: string): OpRecord {
  return {
    seq: times.seq,
    workload: workload.name,
    kind: op.kind,
    idempotent: workload.idempotent || op.method === 'GET',
    intended: times.intended,
    invoke: times.invoke,
    complete: times.complete,
    outcome: result.outcome,
    phase,
    ...(op.key !== undefined ? { key: op.key } : {}),
    ...(op.value !== undefined ? { value: op.value } : {}),
    ...(op.ifMatch !== undefined ? { ifMatch: op.ifMatch } : {}),
    ...(op.ifValue !== undefined ? { ifValue: op.ifValue } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(result.cause !== undefined ? { cause: result.cause } : {}),
    ...(result.code !== undefined ? { code: result.code } : {}),
    ...(result.version !== undefined ? { version: result.version } : {}),
    ...(result.ackId !== undefined ? { ackId: result.ackId } : {}),
    ...(result.output !== undefined ? { output: result.output } : {}),
    ...(result.found !== undefined ? { found: result.found } : {}),
    ...(instance !== undefined ? { instance } : {})
  }
}

function failureCause (err: unknown): string {
  const e = err as { name?: string, code?: string, message?: string }
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'timeout'
  return e.code ?? e.name ?? 'error'
}
