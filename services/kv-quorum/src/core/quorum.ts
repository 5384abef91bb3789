/**
 * Quorum arithmetic. With N replicas, a write acknowledged by W and a read that hears from R
 * overlap in at least one replica when W + R > N: that replica has the write, so the read sees
 * it. W + R <= N gives no such overlap; it is only allowed when the caller says `eventual`.
 */
export type Consistency = 'quorum' | 'eventual'

export interface Quorum {
  n: number
  w: number
  r: number
  consistency: Consistency
}

export type QuorumProblem =
  | { kind: 'range', name: 'w' | 'r', raw: unknown }
  | { kind: 'consistency', raw: unknown }
  | { kind: 'overlap', w: number, r: number, n: number }

/** Whether W + R > N, the condition for a read to overlap every acknowledged write. */
export function overlaps (q: { n: number, w: number, r: number }): boolean {
  return q.w + q.r > q.n
}

/** Validates a configured or requested quorum; returns every problem found. */
export function quorumProblems (q: Quorum): QuorumProblem[] {
  const problems: QuorumProblem[] = []
  if (!inRange(q.w, q.n)) problems.push({ kind: 'range', name: 'w', raw: q.w })
  if (!inRange(q.r, q.n)) problems.push({ kind: 'range', name: 'r', raw: q.r })
  if (problems.length === 0 && q.consistency !== 'eventual' && !overlaps(q)) problems.push({ kind: 'overlap', w: q.w, r: q.r, n: q.n })
  return problems
}

function inRange (x: number, n: number): boolean {
  return Number.isSafeInteger(x) && x >= 1 && x <= n
}

/**
 * The quorum of one request: query strings `w`, `r`, `consistency` over the defaults.
 * Returns the quorum, or the problems (each meant for a 400).
 */
export function requestQuorum (query: Record<string, unknown>, defaults: Quorum): { quorum: Quorum } | { problems: QuorumProblem[] } {
  const problems: QuorumProblem[] = []
  const w = countParam(query.w, defaults.w)
  const r = countParam(query.r, defaults.r)
  let consistency = defaults.consistency
  if (query.consistency !== undefined) {
    if (query.consistency === 'eventual' || query.consistency === 'quorum') consistency = query.consistency
    else problems.push({ kind: 'consistency', raw: query.consistency })
  }
  if (w === undefined) problems.push({ kind: 'range', name: 'w', raw: query.w })
  if (r === undefined) problems.push({ kind: 'range', name: 'r', raw: query.r })
  if (problems.length > 0 || w === undefined || r === undefined) return { problems }
  const quorum = { n: defaults.n, w, r, consistency }
  const more = quorumProblems(quorum)
  return more.length > 0 ? { problems: more } : { quorum }
}

function countParam (raw: unknown, fallback: number): number | undefined {
  if (raw === undefined) return fallback
  if (typeof raw !== 'string' || !/^\d{1,3}$/.test(raw)) return undefined
  return Number(raw)
}

export function describeProblem (p: QuorumProblem, n: number): string {
  switch (p.kind) {
    case 'range': return `${p.name} must be an integer 1–${n}, got ${JSON.stringify(p.raw)}`
    case 'consistency': return `consistency must be "quorum" or "eventual", got ${JSON.stringify(p.raw)}`
    case 'overlap': return `w + r must exceed n for reads to see the latest write (w=${p.w}, r=${p.r}, n=${p.n}); add consistency=eventual to accept stale reads`
  }
}
