/**
 * What flows through the event pipeline (feed → ledger pairs → sink), shared by the services,
 * the verify command and the tests. Input ids are Redis stream entry ids (`<ms>-<seq>`).
 */

/** The two redundant pairs, as the sink names them. */
export const pairNames = ['hot-hot', 'hot-warm'] as const
export type PairName = typeof pairNames[number]

export function isPairName (value: unknown): value is PairName {
  return typeof value === 'string' && (pairNames as readonly string[]).includes(value)
}

/** The part of an output every replica computes identically from the same input. */
export interface OutputCore {
  inputId: string
  account: string
  amount: number
  /** A JSON number while it is a safe integer, else its decimal string (balances can outgrow 2^53). */
  balance: number | string
}

/** One output as sent to and stored by the sink. */
export interface Output extends OutputCore {
  pair: PairName
  /** The lease epoch it was emitted under (0 for the hot-hot pair, which has no lease). */
  epoch: number
  /** The instance that emitted it. */
  instance: string
}

/**
 * What the sink answers a hot-warm member's claim of an epoch: `claimed` (from now on only this
 * holder writes), `older` (the pair has a newer epoch), `taken` (another holder claimed this
 * epoch: it was handed out twice), or `read` (epoch 0: only the mark was read).
 */
export type ClaimOutcome = 'read' | 'claimed' | 'older' | 'taken'

/** The comparison key for dedupe: equal fingerprints are duplicates, different ones a conflict. */
export function fingerprint (o: OutputCore): string {
  return `${o.account}|${o.amount}|${String(o.balance)}`
}

export const inputIdPattern = /^\d{1,16}-\d{1,16}$/

/** Orders stream ids numerically (`'0-0'` is below every real id). */
export function compareInputIds (a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number)
  const [bm = 0, bs = 0] = b.split('-').map(Number)
  return am !== bm ? am - bm : as - bs
}

/** A bigint balance in the output's JSON form. */
export function balanceValue (balance: bigint): number | string {
  return balance <= BigInt(Number.MAX_SAFE_INTEGER) && balance >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(balance) : balance.toString()
}

/** An account name: 1–64 characters of `[A-Za-z0-9_-]`. */
export const accountPattern = /^[A-Za-z0-9_-]{1,64}$/
