import { accountPattern } from '../../../../shared/src/pipeline/types.js'
import { feedError } from '../errors.js'

/** One input event as the feed accepts it. */
export interface FeedEvent {
  account: string
  amount: number
}

const allowedFields = new Set(['account', 'amount'])

/**
 * Validates a parsed JSON body: exactly `account` (1–64 of `[A-Za-z0-9_-]`) and `amount`
 * (a safe integer, any sign). Unknown fields are rejected, never silently dropped.
 */
export function parseEvent (body: unknown): FeedEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw feedError('FEED_ERR_BAD_EVENT', 'the body must be a JSON object {"account": string, "amount": integer}')
  }
  const extra = Object.keys(body).filter((k) => !allowedFields.has(k))
  if (extra.length > 0) throw feedError('FEED_ERR_BAD_EVENT', `unknown field(s): ${extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 64))).join(', ')}`)
  const { account, amount } = body as Record<string, unknown>
  if (typeof account !== 'string' || !accountPattern.test(account)) {
    throw feedError('FEED_ERR_BAD_EVENT', `account must be 1–64 characters of [A-Za-z0-9_-], got ${describe(account)}`)
  }
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) {
    throw feedError('FEED_ERR_BAD_EVENT', `amount must be a safe integer, got ${describe(amount)}`)
  }
  return { account, amount }
}

function describe (value: unknown): string {
  if (value === undefined) return 'nothing'
  const json = JSON.stringify(value) ?? typeof value
  return json.length > 80 ? `${json.slice(0, 77)}...` : json
}

/** What makes two events the same event: the same key with another event is refused (422). */
export function eventFingerprint (event: FeedEvent): string {
  return `${event.account}|${event.amount}`
}

const idempotencyKeyPattern = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The `Idempotency-Key` header, as compute jobs take it: 1–128 of `[A-Za-z0-9._:-]`; undefined
 * when absent. A repeated header (an array) or any other value is FEED_ERR_BAD_IDEMPOTENCY_KEY.
 */
export function parseIdempotencyKey (header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  if (typeof header !== 'string' || !idempotencyKeyPattern.test(header)) throw feedError('FEED_ERR_BAD_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–128 characters of A–Z a–z 0–9 . _ : -')
  return header
}
