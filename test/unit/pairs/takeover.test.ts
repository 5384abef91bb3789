import { describe, expect, it } from 'vitest'
import { initialTakeover, roleOfPhase, stepTakeover, wantsMark, type TakeoverEffect, type TakeoverEvent, type TakeoverState } from '../../../services/ledger/src/core/takeover.js'

const t = { claimRetryMs: 20 }
const at = (phase: TakeoverState['phase'], epoch: number, epochFloor = epoch): TakeoverState => ({ pair: 'hot-warm', phase, epoch, epochFloor })

describe('hot-warm takeover machine', () => {
  it.each<[string, TakeoverState, TakeoverEvent, TakeoverState, TakeoverEffect[]]>([
    ['gaining the lease: claim the epoch at the sink, publish hot at once',
      at('warm', 0), { type: 'leaseChanged', held: true, epoch: 3 },
      at('claiming', 3), [{ type: 'publishRole', role: 'hot', epoch: 3 }, { type: 'claim', epoch: 3, delayMs: 0 }]],
    ['the sink confirmed the claim: trim to its mark, emit',
      at('claiming', 3), { type: 'claimAnswered', epoch: 3, outcome: 'claimed', sinkEpoch: 3, highWaterMark: '10-0' },
      at('hot', 3), [{ type: 'trim', through: '10-0' }, { type: 'wakeEmitter' }]],
    ['the sink has a newer epoch: forfeit ours, warm, and remember the newer one',
      at('claiming', 3), { type: 'claimAnswered', epoch: 3, outcome: 'older', sinkEpoch: 7, highWaterMark: '10-0' },
      at('warm', 3, 7), [{ type: 'forfeitLease' }, { type: 'publishRole', role: 'warm', epoch: 3 }]],
    ['the sink has our epoch from another holder (handed out twice): forfeit it',
      at('claiming', 3), { type: 'claimAnswered', epoch: 3, outcome: 'taken', sinkEpoch: 3, highWaterMark: '10-0' },
      at('warm', 3), [{ type: 'forfeitLease' }, { type: 'publishRole', role: 'warm', epoch: 3 }]],
    ['no sink answered: claim again after the retry delay',
      at('claiming', 3), { type: 'claimFailed', epoch: 3 },
      at('claiming', 3), [{ type: 'claim', epoch: 3, delayMs: 20 }]],
    ['a failed claim of an epoch we no longer hold is not retried',
      at('claiming', 4), { type: 'claimFailed', epoch: 3 },
      at('claiming', 4), []],
    ['a late answer for an older claim only raises the floor',
      at('claiming', 4), { type: 'claimAnswered', epoch: 3, outcome: 'claimed', sinkEpoch: 4, highWaterMark: '10-0' },
      at('claiming', 4), []],
    ['losing the lease (lapsed, or another holder): warm, nothing forfeited',
      at('hot', 3), { type: 'leaseChanged', held: false, epoch: 3 },
      at('warm', 3), [{ type: 'publishRole', role: 'warm', epoch: 3 }]],
    ['a new epoch while hot (re-acquired after a lapse): claim it',
      at('hot', 3), { type: 'leaseChanged', held: true, epoch: 5 },
      at('claiming', 5), [{ type: 'publishRole', role: 'hot', epoch: 5 }, { type: 'claim', epoch: 5, delayMs: 0 }]],
    ['a renewal changes nothing',
      at('hot', 3), { type: 'leaseChanged', held: true, epoch: 3 },
      at('hot', 3), []],
    ['another holder seen while warm: only the floor moves',
      at('warm', 3), { type: 'leaseChanged', held: false, epoch: 6 },
      at('warm', 3, 6), []],
    ['a batch refused as stale: forfeit, warm, and read the sink epoch',
      at('hot', 3), { type: 'batchRefused', epoch: 3 },
      at('warm', 3), [{ type: 'forfeitLease' }, { type: 'publishRole', role: 'warm', epoch: 3 }, { type: 'readMark' }]],
    ['a refusal of a batch from an older epoch changes nothing',
      at('hot', 4), { type: 'batchRefused', epoch: 3 },
      at('hot', 4), []],
    ['warm: the mark trims the outbox and its epoch raises the floor',
      at('warm', 3), { type: 'markRead', sinkEpoch: 5, highWaterMark: '20-0' },
      at('warm', 3, 5), [{ type: 'trim', through: '20-0' }]],
    ['hot: a mark read does not trim (only acknowledgements do)',
      at('hot', 3), { type: 'markRead', sinkEpoch: 3, highWaterMark: '20-0' },
      at('hot', 3), []],
    ['an accepted batch carries the sink epoch into the floor',
      at('hot', 3, 3), { type: 'batchAccepted', epoch: 3, sinkEpoch: 3 },
      at('hot', 3, 3), []]
  ])('%s', (_name, from, event, state, effects) => {
    expect(stepTakeover(from, event, t)).toEqual({ state, effects })
  })

  it('the floor never goes down', () => {
    let s = at('warm', 0, 9)
    for (const e of [{ type: 'markRead', sinkEpoch: 2, highWaterMark: '1-0' }, { type: 'leaseChanged', held: false, epoch: 4 }] as TakeoverEvent[]) s = stepTakeover(s, e, t).state
    expect(s.epochFloor).toBe(9)
  })

  it('hot-hot members have no lease: always hot, every event ignored', () => {
    const s = initialTakeover('hot-hot')
    expect(s.phase).toBe('hot')
    for (const e of [{ type: 'batchRefused', epoch: 0 }, { type: 'leaseChanged', held: false, epoch: 2 }, { type: 'markRead', sinkEpoch: 0, highWaterMark: '5-0' }] as TakeoverEvent[]) {
      expect(stepTakeover(s, e, t)).toEqual({ state: s, effects: [] })
    }
  })

  it('a whole takeover: warm → claiming → hot → fenced by a newer hot → warm → claims past it', () => {
    const events: TakeoverEvent[] = [
      { type: 'markRead', sinkEpoch: 2, highWaterMark: '5-0' },
      { type: 'leaseChanged', held: true, epoch: 3 },
      { type: 'claimFailed', epoch: 3 },
      { type: 'claimAnswered', epoch: 3, outcome: 'claimed', sinkEpoch: 3, highWaterMark: '7-0' },
      { type: 'batchRefused', epoch: 3 },
      { type: 'markRead', sinkEpoch: 8, highWaterMark: '9-0' },
      { type: 'leaseChanged', held: true, epoch: 9 }
    ]
    let s = initialTakeover('hot-warm')
    const trace: string[] = []
    for (const e of events) {
      const step = stepTakeover(s, e, t)
      s = step.state
      trace.push(`${s.phase}/${s.epoch}/${s.epochFloor}:${step.effects.map((x) => x.type).join(',')}`)
    }
    expect(trace).toEqual([
      'warm/0/2:trim',
      'claiming/3/3:publishRole,claim',
      'claiming/3/3:claim',
      'hot/3/3:trim,wakeEmitter',
      'warm/3/3:forfeitLease,publishRole,readMark',
      'warm/3/8:trim',
      'claiming/9/9:publishRole,claim'
    ])
    expect(roleOfPhase('claiming')).toBe('hot')
    expect(wantsMark(s)).toBe(false)
  })
})
