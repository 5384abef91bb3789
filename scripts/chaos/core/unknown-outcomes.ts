import type { Precondition, RegisterOp } from './register.js'

/**
 * Operations of unknown outcome, prepared for the linearizability search. Pure.
 *
 * An operation whose outcome is unknown may take effect at any time after it was sent, or never,
 * so it stays "pending" to the end of the history; each one left in doubles what the search may
 * have to consider. Two steps shrink that, both exact (no linearizable history is rejected for
 * them and no violation is hidden), using that written values are unique per write:
 *
 * 1. Narrowing: an unknown write whose value was observed (a read returned it, or a request
 *    with `If-Match` on it succeeded) must have taken effect, before the earliest such observer
 *    completed. It becomes a *required* operation with that completion time.
 * 2. Pruning: an *optional* (still unknown) operation is dropped when no operation that completes
 *    at or after the moment it was sent could be helped by its effect (see `prepareKey` for why
 *    that is exact).
 *
 * Times: an observer that completes at the very moment a write was sent counts as concurrent with
 * it (the write may come first), the same tie rule as the search's; every comparison below is
 * `>=`, never `>`, so a tie on the clock neither creates a violation nor hides one.
 */

export interface PreparedKey {
  /** Operations that must be linearized: every answered one, and the narrowed unknown writes. */
  required: RegisterOp[]
  /** Unknown writes and deletes that may take effect after `invoke`, or never. */
  optional: RegisterOp[]
  /** Unknown reads (they constrain nothing) and optional operations pruned. */
  dropped: number
}

/** What a state change must bring about to make an operation possible that was not before. */
interface Needs {
  /** Latest completion of an operation helped by the key becoming absent. */
  absent: number
  /** ... by the key existing (any value). */
  present: number
  /** ... by the key holding exactly this value. */
  value: Map<string, number>
  /** ... by the key not holding this value (412 on If-Match: the value must have changed). */
  notValue: Map<string, number>
}

const effectOf = (op: RegisterOp): string | null => op.kind === 'write' ? op.value : null

/** The positive observation of a value an answered (or required) operation makes, if any. */
function observedValue (op: RegisterOp): string | undefined {
  if (op.kind === 'read') return op.output ?? undefined
  if (op.preconditionFailed === true || op.ifMatch === undefined || op.ifMatch === 'any') return undefined
  if (op.kind === 'delete' && op.found === false) return undefined
  return op.ifMatch.value
}

export function prepareKey (history: readonly RegisterOp[]): PreparedKey {
  // an unknown read observed nothing and changes nothing
  const ops = history.filter((op) => !(op.kind === 'read' && op.complete === undefined))
  let dropped = history.length - ops.length

  const writers = new Map<string, number>()
  for (const op of ops) if (op.kind === 'write') writers.set(op.value, (writers.get(op.value) ?? 0) + 1)

  // 1. Narrowing, to a fixpoint: a narrowed write with If-Match on a value observes that value too.
  const narrowed = new Map<number, number>() // op id → completion
  const unknownWrites = ops.filter((op) => op.kind === 'write' && op.complete === undefined && writers.get(op.value) === 1)
  for (let changed = true; changed;) {
    changed = false
    const earliest = new Map<string, number[]>()
    for (const op of ops) {
      const complete = op.complete ?? narrowed.get(op.id)
      const seen = observedValue(op)
      if (complete === undefined || seen === undefined) continue
      const list = earliest.get(seen) ?? []
      list.push(complete)
      earliest.set(seen, list)
    }
    for (const w of unknownWrites) {
      if (w.kind !== 'write') continue
      // Observers that completed before the write was even sent cannot have seen it: they are a
      // violation the search reports on its own. The write must take effect before the earliest
      // of the others completes, since it was applied at most once and values are unique.
      const times = (earliest.get(w.value) ?? []).filter((t) => t >= w.invoke)
      if (times.length === 0) continue
      const by = Math.min(...times)
      if (narrowed.get(w.id) !== by) {
        narrowed.set(w.id, by)
        changed = true
      }
    }
  }

  const required: RegisterOp[] = []
  let candidates: RegisterOp[] = []
  for (const op of ops) {
    if (op.complete !== undefined) required.push(op)
    // narrowed: it took effect by then, but it answered nothing, so it observed nothing
    else if (narrowed.has(op.id) && op.kind === 'write') required.push({ id: op.id, key: op.key, kind: 'write', value: op.value, invoke: op.invoke, complete: narrowed.get(op.id), ...(op.ifMatch !== undefined ? { ifMatch: op.ifMatch } : {}) })
    // an If-Match on a value nobody ever writes can never hold: the operation never takes effect
    else if (op.ifMatch !== undefined && op.ifMatch !== 'any' && !writers.has(op.ifMatch.value)) dropped++
    else candidates.push(op)
  }

  // 2. Pruning, to a fixpoint: keep an optional operation only if an operation already kept could
  // be helped by it. Why that is exact: take any linearization with the fewest optional operations
  // applied, each placed as late as possible. Every optional operation O in it is immediately
  // followed by some operation N that was impossible in the state before O (otherwise: if N does
  // not change the state, O can move after N; if N does, N's resulting state does not depend on
  // the state before it, so O can be left out — both contradict the choice). N's test therefore
  // goes from false to true when the state becomes O's effect, N is linearized after O, so N
  // completes at or after O was sent; and N is itself kept (by induction from the end of the
  // order). So an O that helps no kept N is applied in no such linearization, and leaving it out
  // changes no verdict.
  const needs: Needs = { absent: -Infinity, present: -Infinity, value: new Map(), notValue: new Map() }
  for (const op of required) addNeeds(needs, op, op.complete!)
  const optional: RegisterOp[] = []
  for (let changed = true; changed;) {
    changed = false
    const rest: RegisterOp[] = []
    for (const op of candidates) {
      if (helps(needs, effectOf(op), op.invoke)) {
        optional.push(op)
        addNeeds(needs, op, Infinity)
        changed = true
      } else {
        rest.push(op)
      }
    }
    candidates = rest
  }
  dropped += candidates.length
  return { required, optional, dropped }
}

function later (map: Map<string, number>, key: string, t: number): void {
  map.set(key, Math.max(map.get(key) ?? -Infinity, t))
}

/** Records which state changes could make `op` (completing at `t`) possible where it was not. */
function addNeeds (needs: Needs, op: RegisterOp, t: number): void {
  const pre: Precondition | undefined = op.ifMatch
  const known = op.complete !== undefined && t !== Infinity
  if (op.kind === 'read') {
    if (op.output === null) needs.absent = Math.max(needs.absent, t)
    else later(needs.value, op.output, t)
    return
  }
  if (known && op.preconditionFailed === true) {
    // 412: the If-Match did not hold; `*` fails only on an absent key, a value on anything else
    if (pre === 'any') needs.absent = Math.max(needs.absent, t)
    else if (pre !== undefined) later(needs.notValue, pre.value, t)
    return
  }
  if (known && op.kind === 'delete' && op.found === false) {
    needs.absent = Math.max(needs.absent, t)
    return
  }
  if (known && ((op.kind === 'write' && op.created === false) || (op.kind === 'delete' && op.found === true))) needs.present = Math.max(needs.present, t)
  if (known && op.kind === 'write' && op.created === true) needs.absent = Math.max(needs.absent, t)
  if (pre === 'any') needs.present = Math.max(needs.present, t)
  else if (pre !== undefined) later(needs.value, pre.value, t)
}

/** Could making the state `effect` at or after `invoke` help an operation recorded in `needs`? */
function helps (needs: Needs, effect: string | null, invoke: number): boolean {
  if (effect === null) {
    if (needs.absent >= invoke) return true
  } else {
    if (needs.present >= invoke) return true
    if ((needs.value.get(effect) ?? -Infinity) >= invoke) return true
  }
  for (const [v, t] of needs.notValue) if (t >= invoke && v !== effect) return true
  return false
}
