import type { RegisterOp } from './linearizability.js'

/**
 * The promise of a quorum store at W + R > N, checked on a history. Pure.
 *
 * A leaderless store with last-writer-wins is not linearizable (two concurrent reads may see a
 * write in either order), so the check is the weaker, stated guarantee: no read returns a value
 * older than a write acknowledged before the read began. "Older" is real-time order: the value
 * came from a write that had completed before that acknowledged write was even invoked, so
 * every correct version order puts it earlier. A value written by no write invoked before the
 * read completed is a phantom. Writes with an unknown outcome may have landed: their values are
 * legal to read, but they never make another value stale.
 */
export interface StaleRead {
  key: string
  read: RegisterOp & { kind: 'read' }
  /** What the read returned. */
  returned: string | null
  /** The acknowledged write or delete that made it stale (undefined for a phantom). */
  newer: RegisterOp | undefined
  reason: 'stale' | 'phantom'
}

export interface StaleReadVerdict { ok: boolean, reads: number, stale: StaleRead[] }

export function checkStaleReads (history: readonly RegisterOp[]): StaleReadVerdict {
  const byKey = new Map<string, RegisterOp[]>()
  for (const op of history) {
    const list = byKey.get(op.key) ?? []
    list.push(op)
    byKey.set(op.key, list)
  }
  const stale: StaleRead[] = []
  let reads = 0
  for (const [key, ops] of byKey) {
    const mutations = ops.filter((op) => op.kind !== 'read')
    const acked = mutations.filter((op) => op.complete !== undefined)
    const writerOf = new Map<string, RegisterOp>()
    for (const op of mutations) if (op.kind === 'write') writerOf.set(op.value, op)
    for (const read of ops) {
      if (read.kind !== 'read' || read.complete === undefined) continue
      reads++
      const before = acked.filter((m) => m.complete! < read.invoke)
      // the operations that could have produced what the read saw; -Infinity stands for "the key never existed"
      const sources: Array<{ op: RegisterOp | undefined, complete: number }> = []
      if (read.output === null) {
        sources.push({ op: undefined, complete: -Infinity })
        for (const m of mutations) if (m.kind === 'delete' && m.invoke < read.complete) sources.push({ op: m, complete: m.complete ?? Infinity })
      } else {
        const w = writerOf.get(read.output)
        if (w === undefined || w.invoke >= read.complete) {
          stale.push({ key, read, returned: read.output, newer: undefined, reason: 'phantom' })
          continue
        }
        sources.push({ op: w, complete: w.complete ?? Infinity })
      }
      // stale when every possible source was already overwritten by something acknowledged before the read
      let newer: RegisterOp | undefined
      const fresh = sources.some((s) => {
        const overwrite = before.find((m) => m !== s.op && m.invoke > s.complete)
        if (overwrite === undefined) return true
        newer ??= overwrite
        return false
      })
      if (!fresh) stale.push({ key, read, returned: read.output, newer, reason: 'stale' })
    }
  }
  return { ok: stale.length === 0, reads, stale }
}

export function describeStaleRead (s: StaleRead): string {
  const got = s.returned === null ? 'not found' : JSON.stringify(s.returned)
  if (s.reason === 'phantom') return `key ${JSON.stringify(s.key)}: read returned ${got}, which no write had sent`
  const newer = s.newer === undefined ? '?' : s.newer.kind === 'write' ? `write ${JSON.stringify(s.newer.value)}` : 'delete'
  return `key ${JSON.stringify(s.key)}: read at ${s.read.invoke.toFixed(1)} ms returned ${got}, older than the ${newer} acknowledged at ${s.newer?.complete?.toFixed(1) ?? '?'} ms`
}
