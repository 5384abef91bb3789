import type { OpRecord } from '../chaos/core/history.js'
import { seededRandom } from '../../shared/testing/random.js'
import { opRecord } from '../chaos/open-loop.js'
import { chaosWorkloads, type Interpreted, type PlannedOp } from '../chaos/workloads.js'

/**
 * A chaos history of kv-leader without a cluster, for timing the linearizability checker: the
 * chaos run's own kv-leader workload (open loop, compare-and-set on learned versions) against a
 * simulated *correct* store (one register per key, a version per write, answers per the outcome
 * contract), with leader freezes. Pure given the seed.
 *
 * Freezes are the pessimistic kind for the checker: nothing fails over while the leader is
 * frozen, so every request sent during a freeze waits; the gateway gives up on it after
 * `tryTimeoutMs` (504 GW_ERR_UPSTREAM_TIMEOUT: outcome unknown) and the frozen leader, once thawed,
 * still applies each such write with probability `applyAfterThaw`, in arrival order (its log
 * order). That leaves many writes of unknown outcome, of which later reads see a few, and bursts of
 * requests all answered at the thaw, overlapping one another.
 */
export interface SimulationOptions {
  seed: number
  durationMs: number
  /** kv-leader requests per second. */
  rate: number
  keys: number
  /** Leader freezes: one every `everyMs` on average (0.5–1.5 ×), each `minMs`–`maxMs` long; none when undefined. */
  freezes?: { everyMs: number, minMs: number, maxMs: number }
  /** @default 2_000 */
  tryTimeoutMs?: number
  /** @default 0.5 */
  applyAfterThaw?: number
}

interface Pending { op: PlannedOp, seq: number, intended: number, invoke: number, answerAt: number, status?: number, body?: string, headers?: Record<string, string> }

type Event = { at: number, order: number } & ({ kind: 'apply', p: Pending } | { kind: 'answer', p: Pending })

const env = (error: string): string => JSON.stringify({ error, message: error })

export interface Answer { status: number, body: string, headers: Record<string, string> }

/**
 * A correct kv-leader, sequential: one register per key, a version (log index) per write,
 * conditions checked against the current version, answers as the outcome contract says.
 */
export class CorrectKvLeader {
  readonly #store = new Map<string, { value: string, version: number }>()
  #index = 0

  apply (op: PlannedOp): Answer {
    const key = op.key!
    const current = this.#store.get(key)
    const holds = op.ifMatch === undefined || (op.ifMatch === '*' ? current !== undefined : current !== undefined && op.ifMatch === `"${current.version}"`)
    if (op.kind === 'read') {
      return current === undefined
        ? { status: 404, body: env('KVL_ERR_NOT_FOUND'), headers: {} }
        : { status: 200, body: current.value, headers: { etag: `"${current.version}"` } }
    }
    if (!holds) return { status: 412, body: env('KVL_ERR_VERSION_MISMATCH'), headers: {} }
    if (op.kind === 'write') {
      const status = current === undefined ? 201 : 200
      this.#store.set(key, { value: op.value!, version: ++this.#index })
      return { status, body: JSON.stringify({ key, version: this.#index, created: status === 201 }), headers: { etag: `"${this.#index}"` } }
    }
    if (current === undefined) return { status: 404, body: env('KVL_ERR_NOT_FOUND'), headers: {} }
    this.#store.delete(key)
    return { status: 200, body: JSON.stringify({ key, deleted: true, version: ++this.#index }), headers: {} }
  }
}

/** The history record of one kv-leader operation, answered `status` and read as `result`. */
export function kvLeaderRecord (op: PlannedOp, times: { seq: number, intended: number, invoke: number, complete: number }, status: number, result: Interpreted): OpRecord {
  return opRecord({ name: 'kv-leader', idempotent: false }, op, times, result, 'load', status)
}

export function simulateKvLeader (opts: SimulationOptions): OpRecord[] {
  const random = seededRandom(opts.seed)
  const workload = chaosWorkloads(`sim${opts.seed}`, opts.keys).find((w) => w.name === 'kv-leader')!
  const tryTimeoutMs = opts.tryTimeoutMs ?? 2_000
  const applyAfterThaw = opts.applyAfterThaw ?? 0.5
  const freezes: Array<[number, number]> = []
  if (opts.freezes !== undefined) {
    const f = opts.freezes
    for (let at = 3_000 + random() * f.everyMs; at < opts.durationMs - 8_000; at += f.everyMs * (0.5 + random())) {
      const end = at + f.minMs + random() * (f.maxMs - f.minMs)
      freezes.push([at, end])
      at = end
    }
  }
  const thawAfter = (t: number): number | undefined => freezes.find(([a, b]) => t >= a && t < b)?.[1]
  const queue = new MinHeap<Event>((a, b) => a.at - b.at || a.order - b.order)
  let order = 0
  const store = new CorrectKvLeader()
  const records: OpRecord[] = []
  const total = Math.floor(opts.rate * opts.durationMs / 1_000)
  let nextArrival = 0
  let lastApply = 0

  const arrive = (seq: number): void => {
    const intended = seq * 1_000 / opts.rate
    const op = workload.next(seq, random)
    const invoke = intended + random() * 0.5
    // usually a few ms, sometimes a slow commit (fsync, GC): concurrent requests on hot keys
    let apply = invoke + 0.5 + random() * 3 + (random() < 0.03 ? random() * 150 : 0)
    const thaw = thawAfter(apply)
    const applied = thaw === undefined || random() < applyAfterThaw
    if (thaw !== undefined) apply = thaw
    // one leader applies in arrival order (its log order): a thawed leader works through its queue
    // 0.1 ms an entry before anything sent after the thaw
    apply = Math.max(apply, lastApply + 0.1)
    if (applied) lastApply = apply
    const answerAt = apply + 0.3 + random() * 3
    const p: Pending = { op, seq, intended, invoke, answerAt }
    if (applied) queue.push({ at: apply, order: order++, kind: 'apply', p })
    if (!applied || answerAt - invoke > tryTimeoutMs) {
      p.answerAt = invoke + tryTimeoutMs
      p.status = 504
      p.body = env('GW_ERR_UPSTREAM_TIMEOUT')
      queue.push({ at: p.answerAt, order: order++, kind: 'answer', p })
    }
  }

  const apply = (p: Pending): void => {
    const { status, body, headers } = store.apply(p.op)
    // the client gave up already: the write happened, the answer is lost
    if (p.status !== undefined) return
    p.status = status
    p.body = body
    p.headers = headers
    queue.push({ at: p.answerAt, order: order++, kind: 'answer', p })
  }

  const answer = (p: Pending): void => {
    const result = workload.interpret(p.op, p.status!, p.body!, p.headers ?? {})
    records.push(kvLeaderRecord(p.op, { seq: p.seq, intended: p.intended, invoke: p.invoke, complete: p.answerAt }, p.status!, result))
  }

  while (nextArrival < total || queue.size > 0) {
    const arrivalAt = nextArrival < total ? nextArrival * 1_000 / opts.rate : Infinity
    const head = queue.peek()
    if (head === undefined || arrivalAt <= head.at) {
      arrive(nextArrival++)
      continue
    }
    queue.pop()
    if (head.kind === 'apply') apply(head.p)
    else answer(head.p)
  }
  return records.sort((a, b) => a.seq - b.seq)
}

/** A binary heap: the queue of the simulation's events. */
class MinHeap<T> {
  readonly #items: T[] = []
  readonly #less: (a: T, b: T) => number
  constructor (less: (a: T, b: T) => number) { this.#less = less }
  get size (): number { return this.#items.length }
  peek (): T | undefined { return this.#items[0] }

  push (item: T): void {
    const a = this.#items
    a.push(item)
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1
      if (this.#less(a[i]!, a[parent]!) >= 0) break
      ;[a[i], a[parent]] = [a[parent]!, a[i]!]
      i = parent
    }
  }

  pop (): T | undefined {
    const a = this.#items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last !== undefined) {
      a[0] = last
      for (let i = 0; ;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && this.#less(a[l]!, a[m]!) < 0) m = l
        if (r < a.length && this.#less(a[r]!, a[m]!) < 0) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m]!, a[i]!]
        i = m
      }
    }
    return top
  }
}
