import { accountPattern, inputIdPattern, isPairName, type OutputCore, type PairName } from '../../../../shared/src/pipeline/types.js'
import { sinkError } from '../errors.js'

/** A batch of outputs from one ledger instance, all emitted under one epoch. */
export interface OutputBatch {
  pair: PairName
  epoch: number
  /** The lease holder (owner token) the epoch was granted to; '' for epoch 0 (the hot-hot pair). */
  holder: string
  instance: string
  outputs: OutputCore[]
}

/** @default 5000 */
const maxBatchOutputs = 5_000
const instancePattern = /^[A-Za-z0-9_.:-]{1,128}$/
/** A lease owner token: the instance id and a nonce. */
const holderPattern = /^[A-Za-z0-9_.:#-]{1,160}$/

/** Validates the epoch and holder of a batch or a claim: a holder is required with an epoch above 0. */
export function parseEpochHolder (b: Record<string, unknown>): { epoch: number, holder: string } {
  if (typeof b.epoch !== 'number' || !Number.isSafeInteger(b.epoch) || b.epoch < 0) throw bad('epoch must be a non-negative integer')
  if (b.epoch === 0) return { epoch: 0, holder: '' }
  if (typeof b.holder !== 'string' || !holderPattern.test(b.holder)) throw bad('holder must be the lease owner token (1–160 of A–Z a–z 0–9 _ . : # -) when epoch > 0')
  return { epoch: b.epoch, holder: b.holder }
}

/** Validates an ingest body; the first problem is named in SINK_ERR_BAD_BATCH. */
export function parseBatch (body: unknown): OutputBatch {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  if (!isPairName(b.pair)) throw bad(`pair must be hot-hot or hot-warm, got ${JSON.stringify(b.pair)}`)
  const { epoch, holder } = parseEpochHolder(b)
  if (typeof b.instance !== 'string' || !instancePattern.test(b.instance)) throw bad('instance must be an instance id')
  if (!Array.isArray(b.outputs) || b.outputs.length === 0 || b.outputs.length > maxBatchOutputs) throw bad(`outputs must be an array of 1–${maxBatchOutputs}`)
  const outputs = b.outputs.map((o: unknown, i) => parseOutput(o, i))
  return { pair: b.pair, epoch, holder, instance: b.instance, outputs }
}

function parseOutput (raw: unknown, i: number): OutputCore {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
  if (typeof o.inputId !== 'string' || !inputIdPattern.test(o.inputId)) throw bad(`outputs[${i}].inputId must be a stream id`)
  if (typeof o.account !== 'string' || !accountPattern.test(o.account)) throw bad(`outputs[${i}].account is not a valid account`)
  if (typeof o.amount !== 'number' || !Number.isSafeInteger(o.amount)) throw bad(`outputs[${i}].amount must be a safe integer`)
  const balanceOk = (typeof o.balance === 'number' && Number.isSafeInteger(o.balance)) || (typeof o.balance === 'string' && /^-?\d{1,400}$/.test(o.balance))
  if (!balanceOk) throw bad(`outputs[${i}].balance must be an integer`)
  return { inputId: o.inputId, account: o.account, amount: o.amount, balance: o.balance as number | string }
}

function bad (message: string): Error {
  return sinkError('SINK_ERR_BAD_BATCH', message)
}

export interface OutputsQuery { pair: PairName, account: string, offset: number, limit: number }

/** @default 1000 */
const defaultOutputsLimit = 1_000
const maxOutputsLimit = 10_000

/** Validates `GET /outputs?pair=&account=&offset=&limit=`. */
export function parseOutputsQuery (query: Record<string, unknown>): OutputsQuery {
  const { pair, account } = query
  if (!isPairName(pair)) throw sinkError('SINK_ERR_BAD_QUERY', `pair must be hot-hot or hot-warm, got ${JSON.stringify(pair ?? null)}`)
  if (typeof account !== 'string' || !accountPattern.test(account)) throw sinkError('SINK_ERR_BAD_QUERY', 'account must be 1–64 characters of [A-Za-z0-9_-]')
  const offset = intParam(query.offset, 'offset', 0, Number.MAX_SAFE_INTEGER, 0)
  const limit = intParam(query.limit, 'limit', 1, maxOutputsLimit, defaultOutputsLimit)
  return { pair, account, offset, limit }
}

function intParam (raw: unknown, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback
  const n = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : NaN
  if (!(n >= min && n <= max)) throw sinkError('SINK_ERR_BAD_QUERY', `${name} must be an integer ${min}–${max}`)
  return n
}
