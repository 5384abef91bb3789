import { decideClaim, decideIngest, emptyFence, type PairFence } from '../../services/sink/src/core/fencing.js'
import { fingerprint, type OutputCore } from '../../shared/src/pipeline/types.js'

/**
 * One table of situations for the sink's fencing and dedupe rules, run by the unit tests through
 * the pure model (services/sink/src/core/fencing.ts) and by the contract test through the Lua on
 * a real Redis (test/integration/sink-contract.test.ts): both must give `expect`.
 */
export interface SinkFenceSpec {
  epoch?: number
  holder?: string
  highWaterMark?: string
  acceptedEpoch?: number
}

export interface SinkCase {
  name: string
  /** The pair's stats before the operation (absent fields: never set). */
  fence?: SinkFenceSpec
  /** Outputs already stored for the pair. */
  stored?: OutputCore[]
  op:
  | { claim: { epoch: number, holder: string } }
  | { ingest: { epoch: number, holder: string, outputs: OutputCore[] } }
  expect: {
    outcome: string
    /** The fence afterwards. */
    fence: { epoch: number, holder: string, highWaterMark: string, acceptedEpoch: number }
    /** Ingest only: how many outputs were stored, dropped as duplicates, counted as conflicts. */
    counts?: { stored: number, duplicate: number, conflict: number }
  }
}

const out = (inputId: string, balance = 1, account = 'a'): OutputCore => ({ inputId, account, amount: 1, balance })
const A = 'ledger-hw-a:aaaa0001'
const B = 'ledger-hw-b:bbbb0002'

export const sinkCases: SinkCase[] = [
  {
    name: 'claim on a new pair binds the epoch to its holder',
    op: { claim: { epoch: 1, holder: A } },
    expect: { outcome: 'claimed', fence: { epoch: 1, holder: A, highWaterMark: '0-0', acceptedEpoch: -1 } }
  },
  {
    name: 'claim of a newer epoch fences the older one',
    fence: { epoch: 2, holder: A, highWaterMark: '5-0', acceptedEpoch: 2 },
    op: { claim: { epoch: 3, holder: B } },
    expect: { outcome: 'claimed', fence: { epoch: 3, holder: B, highWaterMark: '5-0', acceptedEpoch: 2 } }
  },
  {
    name: 'claim of an older epoch is refused and changes nothing',
    fence: { epoch: 3, holder: B, highWaterMark: '5-0', acceptedEpoch: 3 },
    op: { claim: { epoch: 2, holder: A } },
    expect: { outcome: 'older', fence: { epoch: 3, holder: B, highWaterMark: '5-0', acceptedEpoch: 3 } }
  },
  {
    name: 'the same holder claims its epoch again (a retried claim)',
    fence: { epoch: 3, holder: B, highWaterMark: '5-0', acceptedEpoch: 3 },
    op: { claim: { epoch: 3, holder: B } },
    expect: { outcome: 'claimed', fence: { epoch: 3, holder: B, highWaterMark: '5-0', acceptedEpoch: 3 } }
  },
  {
    name: 'an epoch handed out twice: another holder\'s claim of it is refused',
    fence: { epoch: 3, holder: B, highWaterMark: '5-0', acceptedEpoch: 3 },
    op: { claim: { epoch: 3, holder: A } },
    expect: { outcome: 'taken', fence: { epoch: 3, holder: B, highWaterMark: '5-0', acceptedEpoch: 3 } }
  },
  {
    name: 'an epoch with no recorded holder is bound by its first claim',
    fence: { epoch: 3, highWaterMark: '5-0' },
    op: { claim: { epoch: 3, holder: A } },
    expect: { outcome: 'claimed', fence: { epoch: 3, holder: A, highWaterMark: '5-0', acceptedEpoch: -1 } }
  },
  {
    name: 'epoch 0 only reads the mark',
    fence: { epoch: 3, holder: B, highWaterMark: '5-0', acceptedEpoch: 3 },
    op: { claim: { epoch: 0, holder: '' } },
    expect: { outcome: 'read', fence: { epoch: 3, holder: B, highWaterMark: '5-0', acceptedEpoch: 3 } }
  },
  {
    name: 'hot-hot (epoch 0): new outputs are stored, the mark is the highest input id in numeric order',
    op: { ingest: { epoch: 0, holder: '', outputs: [out('9-0'), out('10-0'), out('9-5')] } },
    expect: { outcome: 'ok', fence: { epoch: 0, holder: '', highWaterMark: '10-0', acceptedEpoch: 0 }, counts: { stored: 3, duplicate: 0, conflict: 0 } }
  },
  {
    name: 'an identical copy is a duplicate, a different one a conflict; the mark never goes down',
    fence: { highWaterMark: '20-0', acceptedEpoch: 0 },
    stored: [out('9-0', 1), out('20-0', 2)],
    op: { ingest: { epoch: 0, holder: '', outputs: [out('9-0', 1), out('20-0', 7), out('15-0', 3)] } },
    expect: { outcome: 'ok', fence: { epoch: 0, holder: '', highWaterMark: '20-0', acceptedEpoch: 0 }, counts: { stored: 1, duplicate: 1, conflict: 1 } }
  },
  {
    name: 'the same input twice in one batch: the second copy is judged against the first',
    op: { ingest: { epoch: 0, holder: '', outputs: [out('1-0', 1), out('1-0', 1), out('1-0', 2)] } },
    expect: { outcome: 'ok', fence: { epoch: 0, holder: '', highWaterMark: '1-0', acceptedEpoch: 0 }, counts: { stored: 1, duplicate: 1, conflict: 1 } }
  },
  {
    name: 'a batch from an older epoch is refused whole',
    fence: { epoch: 4, holder: B, highWaterMark: '5-0', acceptedEpoch: 4 },
    op: { ingest: { epoch: 3, holder: A, outputs: [out('6-0'), out('7-0')] } },
    expect: { outcome: 'older', fence: { epoch: 4, holder: B, highWaterMark: '5-0', acceptedEpoch: 4 }, counts: { stored: 0, duplicate: 0, conflict: 0 } }
  },
  {
    name: 'a batch under the newest epoch from another holder is refused whole',
    fence: { epoch: 4, holder: B, highWaterMark: '5-0', acceptedEpoch: 4 },
    op: { ingest: { epoch: 4, holder: A, outputs: [out('6-0')] } },
    expect: { outcome: 'taken', fence: { epoch: 4, holder: B, highWaterMark: '5-0', acceptedEpoch: 4 }, counts: { stored: 0, duplicate: 0, conflict: 0 } }
  },
  {
    name: 'the holder of the newest epoch writes',
    fence: { epoch: 4, holder: B, highWaterMark: '5-0', acceptedEpoch: 3 },
    op: { ingest: { epoch: 4, holder: B, outputs: [out('6-0')] } },
    expect: { outcome: 'ok', fence: { epoch: 4, holder: B, highWaterMark: '6-0', acceptedEpoch: 4 }, counts: { stored: 1, duplicate: 0, conflict: 0 } }
  },
  {
    name: 'a batch under a newer epoch than any claim raises the epoch and binds it',
    fence: { epoch: 4, holder: B, highWaterMark: '5-0', acceptedEpoch: 4 },
    op: { ingest: { epoch: 6, holder: A, outputs: [out('6-0')] } },
    expect: { outcome: 'ok', fence: { epoch: 6, holder: A, highWaterMark: '6-0', acceptedEpoch: 6 }, counts: { stored: 1, duplicate: 0, conflict: 0 } }
  }
]

/** The model's answer to one case. */
export function modelOf (c: SinkCase): { outcome: string, fence: PairFence, counts: { stored: number, duplicate: number, conflict: number } } {
  const fence: PairFence = { ...emptyFence, ...c.fence }
  const stored = new Map((c.stored ?? []).map((o) => [o.inputId, fingerprint(o)]))
  if ('claim' in c.op) {
    const r = decideClaim(fence, c.op.claim.epoch, c.op.claim.holder)
    return { outcome: r.outcome, fence: r.fence, counts: { stored: 0, duplicate: 0, conflict: 0 } }
  }
  const { epoch, holder, outputs } = c.op.ingest
  const r = decideIngest(fence, (id) => stored.get(id), { epoch, holder, outputs: outputs.map((o) => ({ inputId: o.inputId, fingerprint: fingerprint(o) })) })
  const count = (v: string): number => r.verdicts.filter((x) => x === v).length
  return { outcome: r.outcome, fence: r.fence, counts: { stored: count('stored'), duplicate: count('duplicate'), conflict: count('conflict') } }
}
