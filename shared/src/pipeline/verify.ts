import type { Redis } from '../redis.js'
import { parseStored, pipelineKeys } from './keys.js'
import { balanceValue, fingerprint, pairNames, type PairName } from './types.js'

/** What verify found for one pair. `ok` needs 0 missing, 0 conflicts, 0 duplicates stored, 0 wrong, 0 extra. */
export interface PairReport {
  pair: PairName
  /** Events in the feed. */
  inputs: number
  /** Outputs stored at the sink. */
  outputs: number
  /** Inputs with no stored output. */
  missing: number
  /** Stored outputs whose balance is not the one the feed implies (a replica computed wrong). */
  wrong: number
  /** Stored outputs for input ids not in the feed. */
  extra: number
  /** Conflicts the sink counted (different outputs offered for one input). */
  conflicts: number
  /** Input ids stored more than once in the per-account lists. */
  duplicatesStored: number
  duplicatesDropped: number
  staleEpochRejected: number
  /** Acknowledged ids checked (0 when verify was not given the feed's acknowledgements). */
  acked: number
  /** Acknowledged ids with no output stored for this pair (whether or not the feed still has them). */
  ackedMissing: number
  ok: boolean
  /** A few missing or wrong input ids, for a look. */
  examples: string[]
}

export interface VerifyReport {
  ok: boolean
  pairs: PairReport[]
  /**
   * Ids the feed acknowledged to clients (202 `{id}`) that are no longer in its stream: events
   * lost after they were accepted. Always 0 without acknowledgements to check against.
   */
  ackedNotInFeed: number
  /** A few of them. */
  lostExamples: string[]
}

export interface VerifyOptions {
  pairs?: readonly PairName[]
  chunk?: number
  /**
   * The ids the feed acknowledged to its clients. Without them verify can only compare the sink
   * with what the stream holds today, so an acknowledged event that vanished from the stream
   * (and never reached the ledgers) goes unnoticed; with them each must still be in the stream and
   * have exactly one output per pair.
   */
  acked?: Iterable<string>
}

/** Pure: the expected outputs of a feed chunk, carrying balances from chunk to chunk. */
export function expectFingerprints (entries: ReadonlyArray<[string, string[]]>, balances: Map<string, bigint>): Array<{ id: string, account: string, fingerprint: string }> {
  const out = []
  for (const [id, fields] of entries) {
    const account = fields[fields.indexOf('account') + 1] ?? ''
    const amount = Number(fields[fields.indexOf('amount') + 1])
    const balance = (balances.get(account) ?? 0n) + BigInt(amount)
    balances.set(account, balance)
    out.push({ id, account, fingerprint: fingerprint({ inputId: id, account, amount, balance: balanceValue(balance) }) })
  }
  return out
}

/**
 * Compares the feed with what the sink stored, pair by pair: every input must have exactly one
 * output, with the balance the feed implies, and the sink must have seen no conflict. Given the
 * feed's acknowledgements, also every acknowledged id: still in the feed, one output per pair.
 */
async function verifyPairs (redis: Redis, prefix: string, { pairs = pairNames, chunk = 5_000, acked }: VerifyOptions = {}): Promise<VerifyReport> {
  const keys = pipelineKeys(prefix)
  const reports: PairReport[] = []
  const ackedIds = [...new Set(acked ?? [])]
  const inFeed = new Set<string>()
  for (const pair of pairs) {
    const k = keys.pair(pair)
    const balances = new Map<string, bigint>()
    let inputs = 0
    let present = 0
    let missing = 0
    let wrong = 0
    const examples: string[] = []
    let start = '-'
    for (;;) {
      const entries = await redis.xrange(keys.feed, start, '+', 'COUNT', chunk) as Array<[string, string[]]>
      if (entries.length === 0) break
      const expected = expectFingerprints(entries, balances)
      if (ackedIds.length > 0) for (const [id] of entries) inFeed.add(id)
      const stored = await redis.hmget(k.outputs, ...expected.map((e) => e.id))
      expected.forEach((e, i) => {
        const raw = stored[i]
        if (raw === null || raw === undefined) {
          missing++
          if (examples.length < 10) examples.push(`missing ${e.id}`)
        } else {
          present++
          if (parseStored(raw).fingerprint !== e.fingerprint) {
            wrong++
            if (examples.length < 10) examples.push(`wrong ${e.id}`)
          }
        }
      })
      inputs += entries.length
      if (entries.length < chunk) break
      start = `(${(entries[entries.length - 1] as [string, string[]])[0]}`
    }
    const accounts = [...balances.keys()]
    const pipe = redis.pipeline()
    pipe.hlen(k.outputs)
    pipe.hgetall(k.stats)
    for (const account of accounts) pipe.llen(k.account(account))
    const results = (await pipe.exec()) ?? []
    const outputs = Number(results[0]?.[1] ?? 0)
    const stats = (results[1]?.[1] ?? {}) as Record<string, string>
    const listed = results.slice(2).reduce((sum, r) => sum + Number(r?.[1] ?? 0), 0)
    const conflicts = Number(stats.conflicts ?? 0)
    const duplicatesStored = Math.max(0, listed - present)
    const extra = outputs - present
    // every acknowledged id needs its output, in the stream or not (one per id: the hash holds one)
    let ackedMissing = 0
    for (let i = 0; i < ackedIds.length; i += chunk) {
      const ids = ackedIds.slice(i, i + chunk)
      const stored = await redis.hmget(k.outputs, ...ids)
      stored.forEach((raw, j) => {
        if (raw !== null && raw !== undefined) return
        ackedMissing++
        if (examples.length < 10 && !examples.includes(`missing ${ids[j]!}`)) examples.push(`acknowledged, no output: ${ids[j]!}`)
      })
    }
    reports.push({
      pair,
      inputs,
      outputs,
      missing,
      wrong,
      extra,
      conflicts,
      duplicatesStored,
      duplicatesDropped: Number(stats.duplicatesDropped ?? 0),
      staleEpochRejected: Number(stats.staleEpochRejected ?? 0),
      acked: ackedIds.length,
      ackedMissing,
      ok: missing === 0 && wrong === 0 && extra === 0 && conflicts === 0 && duplicatesStored === 0 && ackedMissing === 0,
      examples
    })
  }
  const lost = ackedIds.filter((id) => !inFeed.has(id))
  return { ok: reports.every((r) => r.ok) && lost.length === 0, pairs: reports, ackedNotInFeed: lost.length, lostExamples: lost.slice(0, 10) }
}

/** Runs verify until it passes or `waitMs` ran out (outputs may still be in flight after a run). */
export async function verifyPairsEventually (redis: Redis, prefix: string, waitMs: number, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const report = await verifyPairs(redis, prefix, opts)
    if (report.ok || Date.now() >= deadline) return report
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}
