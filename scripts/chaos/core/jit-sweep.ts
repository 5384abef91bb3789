import { noneUsed, useOne, usesNoMore, type TokenClasses, type Used } from './token-classes.js'

/**
 * The search behind `checkKey` (linearizability.ts explains the method): a sweep over one key's
 * calls and returns in time order, keeping every configuration the history so far allows. Pure.
 */

/** A required operation, compiled against the key's model states. */
export interface SearchOp {
  /** Can it take effect in state s? */
  test: (s: number) => boolean
  /** The state after it; -1: unchanged (reads, 404s, 412s). */
  effect: number
  /** Operations with the same test and effect share a signature: they are interchangeable. */
  sig: number
  /** The named value the key must hold when it is linearized (a read of it, an If-Match on it); -1 none. */
  needs: number
  invoke: number
  complete: number
}

export interface SweepInput {
  ops: readonly SearchOp[]
  /** Optional operations: when each may first be used, and its class in `tokens`. */
  optional: ReadonlyArray<{ invoke: number, cls: number }>
  tokens: TokenClasses
  /**
   * The one required operation that makes the key hold each named value; 'none' when nothing
   * writes it; absent when that is not one required operation (an optional one, or several).
   */
  writerOf: ReadonlyMap<number, number | 'none'>
  initial: number
  maxSteps: number
}

export type SweepResult =
  | { result: 'linearizable' }
  | { result: 'violation', stuck: number, possibleBefore: number[], decided: number }
  | { result: 'inconclusive', at: number }

interface Config {
  state: number
  /** Open operations already linearized (indices into `ops`), sorted. */
  done: number[]
  used: Used
}

class OutOfSteps extends Error {}

export function sweep (input: SweepInput): SweepResult {
  const { ops, tokens, writerOf } = input
  // at equal times calls (and optional operations becoming usable) come before returns, so
  // operations that touch on the clock count as concurrent, the permissive reading
  type Event = { time: number, kind: 0 | 1, index: number, optional: boolean }
  const events: Event[] = []
  ops.forEach((op, index) => {
    if (op.complete < op.invoke) throw new Error(`linearizability: operation ${index} completes before it was sent`)
    events.push({ time: op.invoke, kind: 0, index, optional: false }, { time: op.complete, kind: 1, index, optional: false })
  })
  input.optional.forEach((op, index) => events.push({ time: op.invoke, kind: 0, index, optional: true }))
  events.sort((a, b) => a.time - b.time || a.kind - b.kind)

  /** Invoked and not yet returned, by completion time (then index): the order ties are broken in. */
  const open: number[] = []
  const sooner = (a: number, b: number): boolean => ops[a]!.complete < ops[b]!.complete || (ops[a]!.complete === ops[b]!.complete && a < b)
  const returned = new Array<boolean>(ops.length).fill(false)
  let configs: Config[] = [{ state: input.initial, done: [], used: noneUsed }]
  let steps = 0
  let decided = 0

  for (const event of events) {
    if (event.optional) {
      input.tokens.arrive(input.optional[event.index]!.cls)
      continue
    }
    if (event.kind === 0) {
      let i = open.length
      while (i > 0 && sooner(event.index, open[i - 1]!)) i--
      open.splice(i, 0, event.index)
      continue
    }
    let closure: Closure
    try {
      closure = new Closure(ops, open, event.index, tokens, writerOf, returned, () => {
        if (++steps > input.maxSteps) throw new OutOfSteps()
      })
      for (const c of configs) closure.from(c)
    } catch (err) {
      if (err instanceof OutOfSteps) return { result: 'inconclusive', at: event.time }
      throw err
    }
    open.splice(open.indexOf(event.index), 1)
    returned[event.index] = true
    const next = closure.results()
    if (next.length === 0) {
      // when orders were cut short by an operation whose value no order can bring back, that
      // operation is the clearer culprit (a stale read, a read of a value nobody wrote)
      return { result: 'violation', stuck: closure.doomedBy >= 0 ? closure.doomedBy : event.index, possibleBefore: [...new Set(configs.map((c) => c.state))], decided }
    }
    configs = next
    decided++
  }
  return { result: 'linearizable' }
}

/**
 * Every configuration right after the return of `x`, from the configurations before it: a
 * depth-first search over what may be linearized before `x`, memoised on (state, open operations
 * linearized, optional operations used). The open operations are bit positions here.
 */
class Closure {
  doomedBy = -1
  readonly #ops: readonly SearchOp[]
  readonly #open: readonly number[]
  readonly #pos = new Map<number, number>()
  readonly #x: number
  readonly #tokens: TokenClasses
  readonly #step: () => void
  /** Per position: the position of the only writer of the value it needs, -1 when that writer is spent, -2 when it never is. */
  readonly #writerPos: Int32Array
  /** Positions of the open observers (reads, 404s, 412s), and of the open operations that need a named value. */
  readonly #observers: number[] = []
  readonly #needy: number[] = []
  readonly #visited = new Set<string>()
  readonly #out = new Map<string, Config[]>()

  constructor (ops: readonly SearchOp[], open: readonly number[], x: number, tokens: TokenClasses, writerOf: ReadonlyMap<number, number | 'none'>, returned: readonly boolean[], step: () => void) {
    this.#ops = ops
    this.#open = open
    open.forEach((i, p) => this.#pos.set(i, p))
    this.#x = this.#pos.get(x)!
    this.#tokens = tokens
    this.#step = step
    this.#writerPos = Int32Array.from(open, (i) => {
      const need = ops[i]!.needs
      if (need < 0) return -2
      const w = writerOf.get(need)
      if (w === 'none') return -1
      if (w === undefined) return -2
      if (returned[w] === true) return -1
      return this.#pos.get(w) ?? -2 // not sent yet: not spent
    })
    open.forEach((i, p) => {
      if (ops[i]!.effect < 0) this.#observers.push(p)
      if (ops[i]!.needs >= 0 && p !== this.#x) this.#needy.push(p)
    })
  }

  from (c: Config): void {
    const bits = new Uint32Array((this.#open.length + 31) >>> 5)
    for (const i of c.done) set(bits, this.#pos.get(i)!)
    if (has(bits, this.#x)) this.#emit(c.state, bits, c.used)
    else this.#dfs(c.state, bits, c.used, -1)
  }

  results (): Config[] {
    return [...this.#out.values()].flat()
  }

  /**
   * Reads, 404s and 412s do not change the state: linearizing one as soon as the state fits it
   * loses nothing (moving it earlier keeps every other operation's state and only loosens real
   * time, since everything that completed before it was sent is linearized already). So they are
   * applied eagerly, which keeps them out of the branching.
   */
  #observe (state: number, bits: Uint32Array): Uint32Array {
    let out = bits
    for (const p of this.#observers) {
      if (has(out, p) || !this.#ops[this.#open[p]!]!.test(state)) continue
      if (out === bits) out = bits.slice()
      set(out, p)
    }
    return out
  }

  /**
   * An open operation that needs a named value the key cannot hold again (its only writer is
   * linearized already and the key holds something else; values are unique, so that writer does
   * not run twice) dooms the configuration: no continuation can linearize it. Found now rather
   * than when that operation returns, which keeps doomed configurations from multiplying.
   */
  #doomed (state: number, bits: Uint32Array): number {
    // (the returning operation is not among them: it is linearized in every configuration emitted)
    for (const p of this.#needy) {
      const op = this.#ops[this.#open[p]!]!
      if (op.needs === state || has(bits, p)) continue
      const w = this.#writerPos[p]!
      if (w === -1 || (w >= 0 && has(bits, w))) return this.#open[p]!
    }
    return -1
  }

  #emit (state: number, bits: Uint32Array, used: Used): void {
    const after = bits.slice()
    clear(after, this.#x)
    const y = this.#doomed(state, after)
    if (y >= 0) {
      this.doomedBy = y
      return
    }
    // of two configurations with the same state and the same open operations linearized, the one
    // that used no more optional operations of any class can do everything the other can
    const key = `${state}|${bitsKey(after)}`
    const group = this.#out.get(key)
    if (group?.some((g) => usesNoMore(g.used, used)) === true) return
    const done = group?.[0]?.done ?? this.#doneOf(after)
    this.#out.set(key, [...(group ?? []).filter((g) => !usesNoMore(used, g.used)), { state, done, used }])
  }

  #doneOf (bits: Uint32Array): number[] {
    const done: number[] = []
    for (let p = 0; p < this.#open.length; p++) if (has(bits, p)) done.push(this.#open[p]!)
    return done.sort((a, b) => a - b)
  }

  #dfs (state: number, before: Uint32Array, used: Used, needFrom: number): void {
    const bits = this.#observe(state, before)
    const y = this.#doomed(state, bits)
    if (y >= 0) {
      this.doomedBy = y
      return
    }
    // the returning operation is an observer that fits here: placing it now is as good as any
    // later place (the same argument), so nothing else needs exploring from this node
    if (has(bits, this.#x)) return this.#emit(state, bits, used)
    // an optional operation must be followed by something it made possible (see prepareKey);
    // observers that fit the state before it were applied there already, so one applied now is
    // such a successor
    if (bits !== before) needFrom = -1
    const memo = `${state}|${bitsKey(bits)}|${used.key}|${needFrom}`
    if (this.#visited.has(memo)) return
    this.#visited.add(memo)
    this.#step()
    // Of interchangeable open operations only the one that must return first is a candidate: in
    // any order that places a later-returning twin first, the two can swap places (same states;
    // each still lies between its call and its return).
    const offered: number[] = []
    for (let p = 0; p < this.#open.length; p++) {
      const op = this.#ops[this.#open[p]!]!
      if (op.effect < 0 || has(bits, p) || offered.includes(op.sig)) continue
      offered.push(op.sig)
      if (!op.test(state) || (needFrom >= 0 && op.test(needFrom))) continue
      const next = bits.slice()
      set(next, p)
      if (p === this.#x) this.#emit(op.effect, this.#observe(op.effect, next), used)
      else this.#dfs(op.effect, next, used, -1)
    }
    for (const effect of this.#tokens.effects) {
      if (effect === state) continue
      const k = this.#tokens.weakest(effect, state, used)
      if (k === undefined || (needFrom >= 0 && this.#tokens.cond(k, needFrom))) continue
      this.#dfs(effect, bits, useOne(used, k), state)
    }
  }
}

/** A compact string of the bits, two characters a word. */
function bitsKey (bits: Uint32Array): string {
  let key = ''
  for (const w of bits) key += String.fromCharCode(w & 0xffff, w >>> 16)
  return key
}

const has = (bits: Uint32Array, p: number): boolean => (bits[p >>> 5]! & (1 << (p & 31))) !== 0
const set = (bits: Uint32Array, p: number): void => { bits[p >>> 5]! |= 1 << (p & 31) }
const clear = (bits: Uint32Array, p: number): void => { bits[p >>> 5]! &= ~(1 << (p & 31)) }
