import { balanceValue, type OutputCore } from '../../../../shared/src/pipeline/types.js'

/**
 * The ledger's state machine: a running balance per account. Applying the same inputs in the
 * same order gives the same outputs on every replica, which is what lets the sink tell a
 * duplicate (identical) from a conflict (different). Balances are bigints: a sum of safe
 * integers can outgrow 2^53.
 */
export class Balances {
  readonly #balances = new Map<string, bigint>()
  #applied = 0

  get applied (): number { return this.#applied }
  get accounts (): number { return this.#balances.size }

  apply (inputId: string, account: string, amount: number): OutputCore {
    const balance = (this.#balances.get(account) ?? 0n) + BigInt(amount)
    this.#balances.set(account, balance)
    this.#applied++
    return { inputId, account, amount, balance: balanceValue(balance) }
  }

  balance (account: string): bigint {
    return this.#balances.get(account) ?? 0n
  }
}

/** Decodes a stream entry's fields (`['account', a, 'amount', n]`); undefined for a malformed one. */
export function decodeEntry (fields: readonly string[]): { account: string, amount: number } | undefined {
  let account: string | undefined
  let amount: number | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'account') account = fields[i + 1]
    else if (fields[i] === 'amount') amount = Number(fields[i + 1])
  }
  if (account === undefined || amount === undefined || !Number.isSafeInteger(amount)) return undefined
  return { account, amount }
}
