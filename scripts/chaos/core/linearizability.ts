import { describeOp, type Precondition, type RegisterOp, type RegisterState } from './register.js'
import { prepareKey } from './unknown-outcomes.js'

export type { Precondition, RegisterOp, RegisterState } from './register.js'

/**
 * Linearizability of a key-value history, checked per key over a compare-and-set register
 * (`register.ts`). Pure. Written from the papers, no package:
 *
 * - Locality (Herlihy & Wing; the "P-compositionality" of Horn & Kroening): a key-value store is a
 *   set of independent registers, so a history is linearizable iff each key's sub-history is.
 *   Keys are checked one at a time.
 * - Just-in-time linearization (Lowe, "Testing for linearizability", 2017), on top of Wing & Gong's
 *   search: the key's calls and returns are swept in time order, keeping the set of
 *   *configurations* the history so far allows — (model state, which open operations are already
 *   linearized, which unknown-outcome operations were used). At a return, every configuration
 *   must linearize that operation, possibly after some other open ones; a depth-first search with
 *   a memo of visited configurations (Lowe's memoisation of linearized set + state) finds every
 *   way. No configuration left: no order explains the history, and the operation that returned is
 *   the one reported. At a quiescent point (nothing open) a configuration is just a state and the
 *   unknown operations used, so the sweep cuts the history there and carries the *set* of possible
 *   states across the cut (never one state: an unknown write may or may not have landed); work
 *   and memory depend on the longest busy stretch, not on the length of the run.
 * - Unknown outcomes (`unknown-outcomes.ts` narrows and prunes them first): an unknown write or
 *   delete that nothing required stays an *optional* operation, usable at any time after it was
 *   sent, at most once, or never. Optional operations with the same effect and precondition are
 *   interchangeable once sent, so a configuration keeps only how many of each kind it used; and an
 *   optional operation is only ever applied right before an operation it makes possible (the
 *   argument is in `prepareKey`), the weakest applicable one first (a stronger one can do
 *   anything a weaker one can).
 * - Abstraction: values no read returned and no If-Match named are indistinguishable to every
 *   operation of the history, so they are one model state ("some value nobody read").
 *
 * A key the search cannot decide within its step budget is `inconclusive`: never a pass.
 */

export type KeyVerdict =
  | { key: string, ops: number, result: 'linearizable' }
  /**
   * `stuck`: the operation that returned when no order of what came before could include it.
   * `possibleBefore`: the states the key could be in just before (for the report).
   */
  | { key: string, ops: number, result: 'violation', stuck: RegisterOp, possibleBefore: string[], decided: number }
  /** The search gave up after `maxSteps`: neither proved nor refuted, which fails the run. */
  | { key: string, ops: number, result: 'inconclusive', steps: number, at: number }

export interface CheckOptions {
  /** Search steps allowed per key before the verdict is `inconclusive`. @default 20_000_000 */
  maxSteps?: number
  /** The state every key starts in. @default null (absent) */
  initial?: RegisterState
}

/** Model state ids: 0 absent, 1 "some value nobody read", 2… the values the history names. */
const ABSENT = 0
const UNNAMED = 1

interface Compiled {
  op: RegisterOp
  test: (s: number) => boolean
  /** The state after it; -1: unchanged. */
  effect: number
}

interface TokenClass {
  effect: number
  /** Where it may apply. */
  cond: (s: number) => boolean
  /** Weaker classes (applicable in fewer states) first: 0 = If-Match value, 1 = `*`, 2 = none. */
  strength: number
}

interface Config {
  state: number
  /** Open required operations already linearized, sorted. */
  done: number[]
  /** How many optional operations of each class this configuration used. */
  used: number[]
}

export function checkKey (key: string, history: readonly RegisterOp[], opts: CheckOptions = {}): KeyVerdict {
  const maxSteps = opts.maxSteps ?? 20_000_000
  const { required, optional } = prepareKey(history)

  // name the values that some operation can tell apart; every other value is UNNAMED
  const ids = new Map<string, number>()
  const name = (v: string): void => { if (!ids.has(v)) ids.set(v, ids.size + 2) }
  for (const op of [...required, ...optional]) {
    if (op.kind === 'read' && op.output !== null) name(op.output)
    if (op.ifMatch !== undefined && op.ifMatch !== 'any') name(op.ifMatch.value)
  }
  const idOf = (v: RegisterState): number => v === null ? ABSENT : ids.get(v) ?? UNNAMED
  const label = (s: number): string => s === ABSENT ? 'absent' : s === UNNAMED ? 'a value nobody read' : JSON.stringify([...ids].find(([, id]) => id === s)?.[0])
  const cond = (pre: Precondition | undefined): ((s: number) => boolean) => {
    if (pre === undefined) return () => true
    if (pre === 'any') return (s) => s !== ABSENT
    const id = idOf(pre.value)
    return (s) => s === id
  }

  const compiled: Compiled[] = required.map((op) => compile(op, idOf, cond))
  // optional operations by class (effect, precondition); `classOf[i]` for optional[i]
  const classes: TokenClass[] = []
  const classIndex = new Map<string, number>()
  const classOf = optional.map((op) => {
    const effect = op.kind === 'write' ? idOf(op.value) : ABSENT
    const pre = op.ifMatch
    const k = `${effect}|${pre === undefined ? '' : pre === 'any' ? '*' : idOf(pre.value)}`
    let c = classIndex.get(k)
    if (c === undefined) {
      c = classes.length
      classIndex.set(k, c)
      classes.push({ effect, cond: cond(pre), strength: pre === undefined ? 2 : pre === 'any' ? 1 : 0 })
    }
    return c
  })
  // per effect, its classes weakest first
  const byEffect = new Map<number, number[]>()
  classes.forEach((c, i) => byEffect.set(c.effect, [...(byEffect.get(c.effect) ?? []), i]))
  for (const list of byEffect.values()) list.sort((a, b) => classes[a]!.strength - classes[b]!.strength)
  const effectGroups = [...byEffect]

  // events: at equal times calls (and optional operations becoming usable) come before returns,
  // so operations that touch on the clock count as concurrent, the permissive reading
  type Event = { time: number, kind: 0 | 1, index: number, optional: boolean }
  const events: Event[] = []
  compiled.forEach((c, index) => {
    if (c.op.complete! < c.op.invoke) throw new Error(`linearizability: operation ${c.op.id} completes before it was sent`)
    events.push({ time: c.op.invoke, kind: 0, index, optional: false }, { time: c.op.complete!, kind: 1, index, optional: false })
  })
  optional.forEach((op, index) => events.push({ time: op.invoke, kind: 0, index, optional: true }))
  events.sort((a, b) => a.time - b.time || a.kind - b.kind)

  const available = new Array<number>(classes.length).fill(0)
  const open: number[] = []
  let configs: Config[] = [{ state: idOf(opts.initial ?? null), done: [], used: new Array<number>(classes.length).fill(0) }]
  let steps = 0
  let decided = 0

  for (const event of events) {
    if (event.optional) {
      available[classOf[event.index]!]!++
      continue
    }
    if (event.kind === 0) {
      open.push(event.index)
      continue
    }
    const x = event.index
    const out = new Frontier()
    const visited = new Set<string>()

    const dfs = (state: number, done: number[], used: number[], needFrom: number): void => {
      const memo = `${state}|${done.join(',')}|${used.join(',')}|${needFrom}`
      if (visited.has(memo)) return
      visited.add(memo)
      if (++steps > maxSteps) throw new OutOfSteps()
      for (const y of open) {
        if (done.includes(y)) continue
        const c = compiled[y]!
        // after an optional operation, only what it made possible may follow (see prepareKey)
        if (!c.test(state) || (needFrom >= 0 && c.test(needFrom))) continue
        const next = c.effect < 0 ? state : c.effect
        if (y === x) out.add({ state: next, done, used })
        else dfs(next, insertSorted(done, y), used, -1)
      }
      for (const [effect, list] of effectGroups) {
        if (effect === state) continue
        const k = list.find((i) => used[i]! < available[i]! && classes[i]!.cond(state))
        if (k === undefined || (needFrom >= 0 && classes[k]!.cond(needFrom))) continue
        const nextUsed = used.slice()
        nextUsed[k]!++
        dfs(effect, done, nextUsed, state)
      }
    }

    try {
      for (const c of configs) {
        if (c.done.includes(x)) out.add({ state: c.state, done: c.done.filter((i) => i !== x), used: c.used })
        else dfs(c.state, c.done, c.used, -1)
      }
    } catch (err) {
      if (err instanceof OutOfSteps) return { key, ops: history.length, result: 'inconclusive', steps: maxSteps, at: event.time }
      throw err
    }
    open.splice(open.indexOf(x), 1)
    const next = out.configs()
    if (next.length === 0) {
      const possibleBefore = [...new Set(configs.map((c) => label(c.state)))]
      return { key, ops: history.length, result: 'violation', stuck: compiled[x]!.op, possibleBefore, decided }
    }
    configs = next
    decided++
  }
  return { key, ops: history.length, result: 'linearizable' }
}

function compile (op: RegisterOp, idOf: (v: RegisterState) => number, cond: (pre: Precondition | undefined) => (s: number) => boolean): Compiled {
  const pre = cond(op.ifMatch)
  // a narrowed unknown write has a completion but no answer: only its precondition counts
  const answered = op.kind === 'read' || op.preconditionFailed === true || (op.kind === 'write' ? op.created !== undefined : op.found !== undefined)
  if (op.kind === 'read') {
    const want = idOf(op.output)
    return { op, test: (s) => s === want, effect: -1 }
  }
  if (op.preconditionFailed === true) {
    // 412 without an If-Match is an answer no state explains
    return { op, test: op.ifMatch === undefined ? () => false : (s) => !pre(s), effect: -1 }
  }
  if (op.kind === 'delete') {
    if (answered && op.found === false) return { op, test: (s) => s === ABSENT, effect: -1 }
    if (answered && op.found === true) return { op, test: (s) => s !== ABSENT && pre(s), effect: ABSENT }
    return { op, test: pre, effect: ABSENT }
  }
  const effect = idOf(op.value)
  if (answered && op.created === true) return { op, test: (s) => s === ABSENT && pre(s), effect }
  if (answered && op.created === false) return { op, test: (s) => s !== ABSENT && pre(s), effect }
  return { op, test: pre, effect }
}

class OutOfSteps extends Error {}

function insertSorted (list: readonly number[], x: number): number[] {
  const out = list.slice()
  let i = out.length
  while (i > 0 && out[i - 1]! > x) i--
  out.splice(i, 0, x)
  return out
}

/**
 * The configurations after a return, without duplicates or dominated ones: of two with the same
 * state and the same open operations linearized, the one that used no more optional operations
 * of any kind can do everything the other can.
 */
class Frontier {
  readonly #groups = new Map<string, Config[]>()

  add (c: Config): void {
    const key = `${c.state}|${c.done.join(',')}`
    const group = this.#groups.get(key)
    if (group === undefined) {
      this.#groups.set(key, [c])
      return
    }
    if (group.some((g) => dominates(g.used, c.used))) return
    this.#groups.set(key, [...group.filter((g) => !dominates(c.used, g.used)), c])
  }

  configs (): Config[] {
    return [...this.#groups.values()].flat()
  }
}

function dominates (a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i]! > b[i]!) return false
  return true
}

export interface HistoryVerdict {
  /** False on any violation and on any key not decided. */
  ok: boolean
  keys: number
  ops: number
  violations: Array<Extract<KeyVerdict, { result: 'violation' }>>
  inconclusive: Array<Extract<KeyVerdict, { result: 'inconclusive' }>>
}

/** Groups a history by key, in order of first appearance. */
export function byKey (history: readonly RegisterOp[]): Map<string, RegisterOp[]> {
  const keys = new Map<string, RegisterOp[]>()
  for (const op of history) {
    const list = keys.get(op.key) ?? []
    list.push(op)
    keys.set(op.key, list)
  }
  return keys
}

/** Checks a whole history key by key. */
export function checkHistory (history: readonly RegisterOp[], opts: CheckOptions = {}): HistoryVerdict {
  const keys = byKey(history)
  const verdict: HistoryVerdict = { ok: true, keys: keys.size, ops: history.length, violations: [], inconclusive: [] }
  for (const [key, ops] of keys) {
    const v = checkKey(key, ops, opts)
    if (v.result === 'violation') verdict.violations.push(v)
    if (v.result === 'inconclusive') verdict.inconclusive.push(v)
  }
  verdict.ok = verdict.violations.length === 0 && verdict.inconclusive.length === 0
  return verdict
}

/** A one-line account of a violation, for reports. */
export function describeViolation (v: Extract<KeyVerdict, { result: 'violation' }>): string {
  return `key ${JSON.stringify(v.key)}: ${describeOp(v.stuck)} fits no order of the operations before it (the key could only be ${v.possibleBefore.join(' or ')}; ${v.decided} returns explained before it)`
}

export function describeInconclusive (v: Extract<KeyVerdict, { result: 'inconclusive' }>): string {
  return `key ${JSON.stringify(v.key)}: not decided within ${v.steps} search steps (stopped at ${v.at.toFixed(1)} ms of ${v.ops} operations)`
}
