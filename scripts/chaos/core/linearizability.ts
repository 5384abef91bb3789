/**
 * Linearizability of a key-value history, checked per key over a register model. Pure.
 *
 * Written from the papers: Wing & Gong, "Testing and verifying concurrent objects" (1993), a
 * depth-first search for a total order of the operations that respects real time (an operation
 * that completed before another was invoked comes first) and the sequential model; with Lowe's
 * improvement ("Testing for linearizability", 2017): memoise each (set of linearized operations,
 * model state) already explored, so equivalent orders are not searched twice. Because a
 * key-value store is a set of independent registers, a history is linearizable iff each key's
 * sub-history is (Herlihy & Wing's locality, the "P-compositionality" of Horn & Kroening), so
 * keys are checked one at a time, which keeps each search small.
 *
 * An operation whose outcome is unknown (timed out, connection lost, 5xx) may have taken effect
 * at any moment after its invocation, or never: it gets no completion time (it never precedes
 * anything) and no output constraint. Linearizing it after everything else is the same as it
 * never having happened, so "never applied" is covered too. A read with an unknown outcome
 * constrains nothing and is dropped.
 */

/** A register's state: the value, or null when the key does not exist. */
export type RegisterState = string | null

interface OpBase {
  /** Unique within the history. */
  id: number
  key: string
  /** Monotonic time the request was sent. */
  invoke: number
  /** Monotonic time the response arrived; undefined when the outcome is unknown. */
  complete?: number | undefined
}

export type RegisterOp =
  | OpBase & { kind: 'write', value: string }
  /** `found`: the store said the key existed (true) or not (false); undefined when not known. */
  | OpBase & { kind: 'delete', found?: boolean | undefined }
  /** `output`: the value read, or null for "not found". */
  | OpBase & { kind: 'read', output: RegisterState }

/** The sequential specification: can `op` happen in `state`, and what state follows. */
export function step (state: RegisterState, op: RegisterOp): { ok: boolean, next: RegisterState } {
  switch (op.kind) {
    case 'write': return { ok: true, next: op.value }
    case 'delete': return { ok: op.found === undefined || op.found === (state !== null), next: null }
    case 'read': return { ok: op.output === state, next: state }
  }
}

export type KeyVerdict =
  /**
   * `relaxedDeletes`: the strict search ran out of steps and this verdict ignores what deletes
   * said about the key's existence (a weaker check, never a false alarm).
   */
  | { key: string, ops: number, result: 'linearizable', relaxedDeletes?: boolean }
  /** `stuck`: the operation no order could place, at the deepest point the search reached. */
  | { key: string, ops: number, result: 'violation', stuck: RegisterOp, linearizedBefore: number }
  /** The search gave up after `maxSteps`: neither proved nor refuted. */
  | { key: string, ops: number, result: 'inconclusive', steps: number }

export interface CheckOptions {
  /** Search steps allowed per key and pass before the verdict is `inconclusive` (about 1 s). @default 5_000_000 */
  maxSteps?: number
  /** The state every key starts in. @default null (absent) */
  initial?: RegisterState
}

interface Entry {
  op: RegisterOp
  index: number
  call: boolean
  /** The call's return entry. */
  match: Entry | undefined
  prev: Entry | undefined
  next: Entry | undefined
}

/**
 * Checks one key's sub-history (every op must have that key). When the search runs out of steps,
 * it runs again without the `found` answers of deletes: then writes of unknown outcome that no
 * read saw can be dropped, which usually makes the search small. A violation found that way is a
 * violation of the strict model too; a pass is reported as `relaxedDeletes`.
 */
export function checkKey (key: string, history: readonly RegisterOp[], opts: CheckOptions = {}): KeyVerdict {
  const strict = search(key, history, opts)
  if (strict.result !== 'inconclusive' || !history.some((op) => op.kind === 'delete' && op.found !== undefined)) return strict
  const relaxed = search(key, history.map((op) => op.kind === 'delete' ? { ...op, found: undefined } : op), opts)
  if (relaxed.result === 'linearizable') return { ...relaxed, relaxedDeletes: true }
  return relaxed.result === 'violation' ? relaxed : strict
}

function search (key: string, history: readonly RegisterOp[], opts: CheckOptions): KeyVerdict {
  const maxSteps = opts.maxSteps ?? 5_000_000
  const ops = narrowUnknown(history.filter((op) => !(op.kind === 'read' && op.complete === undefined)))
  const head = buildList(ops)
  const n = ops.length
  const linearized = new Uint32Array(Math.ceil(n / 32))
  const seen = new Set<string>()
  const stack: Array<{ entry: Entry, state: RegisterState }> = []
  let state: RegisterState = opts.initial ?? null
  let entry = head.next
  let steps = 0
  let deepest = -1
  let stuck: RegisterOp | undefined

  while (head.next !== undefined) {
    if (++steps > maxSteps) return { key, ops: n, result: 'inconclusive', steps: maxSteps }
    if (entry === undefined) throw new Error('linearizability: ran off the end of the history (a return before its call?)')
    if (entry.call) {
      const { ok, next } = step(state, entry.op)
      if (ok) {
        setBit(linearized, entry.index)
        const memo = `${bitsKey(linearized)}|${next === null ? '\u0000' : 's' + next}`
        if (!seen.has(memo)) {
          seen.add(memo)
          stack.push({ entry, state })
          state = next
          lift(entry)
          entry = head.next
          continue
        }
        clearBit(linearized, entry.index)
      }
      entry = entry.next
    } else {
      // a return whose call is not linearized yet: every order so far is wrong, backtrack
      if (stack.length > deepest) {
        deepest = stack.length
        stuck = entry.op
      }
      const top = stack.pop()
      if (top === undefined) return { key, ops: n, result: 'violation', stuck: stuck ?? entry.op, linearizedBefore: Math.max(0, deepest) }
      unlift(top.entry)
      clearBit(linearized, top.entry.index)
      state = top.state
      entry = top.entry.next
    }
  }
  return { key, ops: n, result: 'linearizable' }
}

export interface HistoryVerdict {
  ok: boolean
  keys: number
  ops: number
  violations: Array<Extract<KeyVerdict, { result: 'violation' }>>
  inconclusive: Array<Extract<KeyVerdict, { result: 'inconclusive' }>>
  /** Keys that passed only the relaxed check (deletes' answers ignored). */
  relaxed: number
}

/** Checks a whole history key by key. `ok` is false on any violation; inconclusive keys are listed apart. */
export function checkHistory (history: readonly RegisterOp[], opts: CheckOptions = {}): HistoryVerdict {
  const byKey = new Map<string, RegisterOp[]>()
  for (const op of history) {
    const list = byKey.get(op.key) ?? []
    list.push(op)
    byKey.set(op.key, list)
  }
  const verdict: HistoryVerdict = { ok: true, keys: byKey.size, ops: history.length, violations: [], inconclusive: [], relaxed: 0 }
  for (const [key, ops] of byKey) {
    const v = checkKey(key, ops, opts)
    if (v.result === 'violation') verdict.violations.push(v)
    if (v.result === 'inconclusive') verdict.inconclusive.push(v)
    if (v.result === 'linearizable' && v.relaxedDeletes === true) verdict.relaxed++
  }
  verdict.ok = verdict.violations.length === 0
  return verdict
}

/** A one-line account of a violation, for reports. */
export function describeViolation (v: Extract<KeyVerdict, { result: 'violation' }>): string {
  const op = v.stuck
  const what = op.kind === 'write'
    ? `write ${JSON.stringify(op.value)}`
    : op.kind === 'delete' ? `delete (found: ${String(op.found)})` : `read → ${op.output === null ? 'not found' : JSON.stringify(op.output)}`
  const span = `[${op.invoke.toFixed(1)} ms … ${op.complete === undefined ? '?' : op.complete.toFixed(1) + ' ms'}]`
  return `key ${JSON.stringify(v.key)}: ${what} ${span} fits no order of the ${v.ops} operations (deepest consistent prefix: ${v.linearizedBefore})`
}

/**
 * Narrows operations of unknown outcome, which keeps the search small when a fault leaves many
 * requests timed out (each one pending "until the end" otherwise doubles the orders to try).
 * Values are unique per write, which makes two sound steps possible:
 * - a write whose value some read returned must take effect before that read completes, so its
 *   completion becomes the earliest such read's completion;
 * - an operation nothing observed is dropped: it could always be placed last, and removing it
 *   from a valid order leaves a valid order. A write whose value no read returned only matters to
 *   a delete that must find the key (`found: true`), so it is kept when such a delete completed
 *   after the write was sent; a delete only matters to what observes an absent key (a read of
 *   null, a delete with `found: false`), so it is kept when one of those completed after it was sent.
 */
export function narrowUnknown (ops: readonly RegisterOp[]): RegisterOp[] {
  const firstReadOf = new Map<string, number>()
  let lastFoundDelete = -Infinity
  let lastAbsentSeen = -Infinity
  for (const op of ops) {
    if (op.complete === undefined) continue
    if (op.kind === 'read' && op.output !== null) firstReadOf.set(op.output, Math.min(firstReadOf.get(op.output) ?? Infinity, op.complete))
    if (op.kind === 'delete' && op.found === true) lastFoundDelete = Math.max(lastFoundDelete, op.complete)
    if ((op.kind === 'read' && op.output === null) || (op.kind === 'delete' && op.found === false)) lastAbsentSeen = Math.max(lastAbsentSeen, op.complete)
  }
  const out: RegisterOp[] = []
  for (const op of ops) {
    if (op.complete !== undefined || op.kind === 'read') {
      out.push(op)
    } else if (op.kind === 'write') {
      const seen = firstReadOf.get(op.value)
      // a read that completed before the write was sent is a violation the search will report
      if (seen !== undefined && seen >= op.invoke) out.push({ ...op, complete: seen })
      else if (seen !== undefined || lastFoundDelete > op.invoke) out.push(op)
    } else if (lastAbsentSeen > op.invoke) {
      out.push(op)
    }
  }
  return out
}

function buildList (ops: readonly RegisterOp[]): Entry {
  const events: Array<{ time: number, entry: Entry }> = []
  ops.forEach((op, index) => {
    const call: Entry = { op, index, call: true, match: undefined, prev: undefined, next: undefined }
    const ret: Entry = { op, index, call: false, match: undefined, prev: undefined, next: undefined }
    call.match = ret
    events.push({ time: op.invoke, entry: call }, { time: op.complete ?? Infinity, entry: ret })
  })
  // at equal times calls sort before returns: the two operations count as concurrent, the more
  // permissive reading, so a tie on the clock never manufactures a violation
  events.sort((a, b) => a.time - b.time || Number(b.entry.call) - Number(a.entry.call))
  const head: Entry = { op: ops[0]!, index: -1, call: false, match: undefined, prev: undefined, next: undefined }
  let prev = head
  for (const { entry } of events) {
    prev.next = entry
    entry.prev = prev
    prev = entry
  }
  return head
}

function lift (call: Entry): void {
  call.prev!.next = call.next
  if (call.next !== undefined) call.next.prev = call.prev
  const ret = call.match!
  ret.prev!.next = ret.next
  if (ret.next !== undefined) ret.next.prev = ret.prev
}

function unlift (call: Entry): void {
  const ret = call.match!
  ret.prev!.next = ret
  if (ret.next !== undefined) ret.next.prev = ret
  call.prev!.next = call
  if (call.next !== undefined) call.next.prev = call
}

function setBit (bits: Uint32Array, i: number): void { bits[i >>> 5]! |= 1 << (i & 31) }
function clearBit (bits: Uint32Array, i: number): void { bits[i >>> 5]! &= ~(1 << (i & 31)) }
function bitsKey (bits: Uint32Array): string { return Array.prototype.join.call(bits, ',') }
