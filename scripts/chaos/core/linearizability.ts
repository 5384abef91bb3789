import { sweep, type SearchOp } from './jit-sweep.js'
import { describeOp, type RegisterOp, type RegisterState } from './register.js'
import { ABSENT, TokenClasses, UNNAMED } from './token-classes.js'
import { prepareKey } from './unknown-outcomes.js'

export type { RegisterOp, RegisterState } from './register.js'

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
 * - Exact reductions of the search (`jit-sweep.ts` gives each argument): reads, 404s and 412s are
 *   linearized as soon as the state fits them; of interchangeable open operations only the one
 *   that returns first is tried; a configuration in which an open read's value can never come
 *   back (its only writer was overwritten) is dropped at once.
 *
 * A key the search cannot decide within its step budget is `inconclusive`: never a pass.
 */

export type KeyVerdict =
  | { key: string, ops: number, result: 'linearizable' }
  /**
   * `stuck`: the operation no order of what came before can include (the one returning then, or
   * an open one whose value no order can bring back).
   * `possibleBefore`: the states the key could be in just before (for the report).
   */
  | { key: string, ops: number, result: 'violation', stuck: RegisterOp, possibleBefore: string[], decided: number }
  /** The search gave up after `maxSteps`: neither proved nor refuted, which fails the run. */
  | { key: string, ops: number, result: 'inconclusive', steps: number, at: number }

export interface CheckOptions {
  /** Search steps allowed per key before the verdict is `inconclusive`. @default 10_000_000 (tens of seconds of CPU) */
  maxSteps?: number
  /** The state every key starts in. @default null (absent) */
  initial?: RegisterState
}

export function checkKey (key: string, history: readonly RegisterOp[], opts: CheckOptions = {}): KeyVerdict {
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

  const shapes = new Map<string, number>()
  const ops: SearchOp[] = required.map((op) => {
    const { shape, ...c } = compile(op, idOf)
    if (!shapes.has(shape)) shapes.set(shape, shapes.size)
    const needs = op.kind === 'read'
      ? (op.output === null ? -1 : idOf(op.output))
      : op.preconditionFailed !== true && !(op.kind === 'delete' && op.found === false) && op.ifMatch !== undefined && op.ifMatch !== 'any' ? idOf(op.ifMatch.value) : -1
    return { ...c, sig: shapes.get(shape)!, needs, invoke: op.invoke, complete: op.complete! }
  })
  // the one operation that can make the key hold each named value
  const writerOf = new Map<number, number | 'none'>()
  for (const id of ids.values()) writerOf.set(id, 'none')
  const ambiguous = new Set<number>()
  ops.forEach((c, i) => {
    if (c.effect < 2) return
    if (writerOf.get(c.effect) === 'none') writerOf.set(c.effect, i)
    else ambiguous.add(c.effect)
  })
  for (const op of optional) if (op.kind === 'write' && ids.has(op.value)) ambiguous.add(idOf(op.value))
  for (const id of ambiguous) writerOf.delete(id)

  const tokens = new TokenClasses()
  const result = sweep({
    ops,
    optional: optional.map((op) => ({ invoke: op.invoke, cls: tokens.classFor(op.kind === 'write' ? idOf(op.value) : ABSENT, op.ifMatch === undefined ? 'none' : op.ifMatch === 'any' ? 'any' : idOf(op.ifMatch.value)) })),
    tokens,
    writerOf,
    initial: idOf(opts.initial ?? null),
    maxSteps: opts.maxSteps ?? 10_000_000
  })
  if (result.result === 'linearizable') return { key, ops: history.length, result: 'linearizable' }
  if (result.result === 'inconclusive') return { key, ops: history.length, result: 'inconclusive', steps: opts.maxSteps ?? 10_000_000, at: result.at }
  return { key, ops: history.length, result: 'violation', stuck: required[result.stuck]!, possibleBefore: result.possibleBefore.map(label), decided: result.decided }
}

/** An answered operation as a test on model states and an effect; `shape` is the same for interchangeable ones. */
function compile (op: RegisterOp, idOf: (v: RegisterState) => number): { test: (s: number) => boolean, effect: number, shape: string } {
  const preKey = op.ifMatch === undefined ? '' : op.ifMatch === 'any' ? '*' : String(idOf(op.ifMatch.value))
  const preId = op.ifMatch === undefined || op.ifMatch === 'any' ? -1 : idOf(op.ifMatch.value)
  const pre = op.ifMatch === undefined ? () => true : op.ifMatch === 'any' ? (s: number) => s !== ABSENT : (s: number) => s === preId
  // a narrowed unknown write has a completion but no answer: only its precondition counts
  const answered = op.kind === 'read' || op.preconditionFailed === true || (op.kind === 'write' ? op.created !== undefined : op.found !== undefined)
  if (op.kind === 'read') {
    const want = idOf(op.output)
    return { test: (s) => s === want, effect: -1, shape: `r${want}` }
  }
  if (op.preconditionFailed === true) {
    // 412 without an If-Match is an answer no state explains
    return { test: op.ifMatch === undefined ? () => false : (s) => !pre(s), effect: -1, shape: `412${preKey}` }
  }
  if (op.kind === 'delete') {
    if (answered && op.found === false) return { test: (s) => s === ABSENT, effect: -1, shape: 'd404' }
    if (answered && op.found === true) return { test: (s) => s !== ABSENT && pre(s), effect: ABSENT, shape: `d+${preKey}` }
    return { test: pre, effect: ABSENT, shape: `d${preKey}` }
  }
  const effect = idOf(op.value)
  if (answered && op.created === true) return { test: (s) => s === ABSENT && pre(s), effect, shape: `w${effect}+${preKey}` }
  if (answered && op.created === false) return { test: (s) => s !== ABSENT && pre(s), effect, shape: `w${effect}-${preKey}` }
  return { test: pre, effect, shape: `w${effect}${preKey}` }
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
