/**
 * The optional (unknown-outcome) operations of one key, for the linearizability search. Pure.
 *
 * Two optional operations with the same effect and the same precondition (none, `*`, or a value)
 * are interchangeable once both were sent, so the search counts how many of each class a
 * configuration used instead of which ones. Within an effect, the weakest class that applies
 * (applicable in the fewest states: value ⊂ `*` ⊂ none) is used first: a solution that used a
 * stronger one there can swap the two uses, since the stronger one applies wherever the weaker did.
 */

/** Model state ids: 0 absent, 1 "some value nobody read", 2… the values the history names. */
export const ABSENT = 0
export const UNNAMED = 1

/**
 * How many optional operations of each class a configuration used: [class, count] pairs sorted by
 * class, with their memo key computed once.
 */
export interface Used { readonly pairs: ReadonlyArray<readonly [number, number]>, readonly key: string }

export const noneUsed: Used = { pairs: [], key: '' }

export class TokenClasses {
  /** Every effect some class has, in order of first appearance. */
  readonly effects: number[] = []
  readonly #byEffect = new Map<number, { none?: number, any?: number, value: Map<number, number> }>()
  readonly #conds: Array<'none' | 'any' | number> = []
  readonly #available: number[] = []

  /** The class of an optional operation with this effect and precondition (`any` for `*`, a state id for a value). */
  classFor (effect: number, pre: 'none' | 'any' | number): number {
    let group = this.#byEffect.get(effect)
    if (group === undefined) {
      group = { value: new Map() }
      this.#byEffect.set(effect, group)
      this.effects.push(effect)
    }
    const existing = pre === 'none' ? group.none : pre === 'any' ? group.any : group.value.get(pre)
    if (existing !== undefined) return existing
    const k = this.#conds.length
    this.#conds.push(pre)
    this.#available.push(0)
    if (pre === 'none') group.none = k
    else if (pre === 'any') group.any = k
    else group.value.set(pre, k)
    return k
  }

  /** One more operation of class `k` was sent: usable from now on. */
  arrive (k: number): void { this.#available[k]!++ }

  /** Does class `k`'s precondition hold in state `s`? */
  cond (k: number, s: number): boolean {
    const pre = this.#conds[k]!
    return pre === 'none' || (pre === 'any' ? s !== ABSENT : s === pre)
  }

  /** The weakest class with an unused operation that can make the state `effect` from state `s`. */
  weakest (effect: number, s: number, used: Used): number | undefined {
    const group = this.#byEffect.get(effect)!
    for (const k of [group.value.get(s), s !== ABSENT ? group.any : undefined, group.none]) {
      if (k !== undefined && usedOf(used, k) < this.#available[k]!) return k
    }
    return undefined
  }
}

const usedOf = (used: Used, k: number): number => used.pairs.find(([c]) => c === k)?.[1] ?? 0

export function useOne (used: Used, k: number): Used {
  const pairs = used.pairs.filter(([c]) => c !== k)
  pairs.push([k, usedOf(used, k) + 1])
  pairs.sort((a, b) => a[0] - b[0])
  return { pairs, key: pairs.map(([c, n]) => `${c}:${n}`).join(',') }
}

/** `a` used no more of any class than `b`: it can do whatever `b` can. */
export function usesNoMore (a: Used, b: Used): boolean {
  return a.pairs.every(([k, n]) => n <= usedOf(b, k))
}
