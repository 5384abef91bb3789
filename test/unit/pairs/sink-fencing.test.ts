import { describe, expect, it } from 'vitest'
import { emptyFence, fenceVerdict } from '../../../services/sink/src/core/fencing.js'
import { modelOf, sinkCases } from '../../contracts/sink-fencing.js'

describe('sink fencing and dedupe (pure model)', () => {
  it.each(sinkCases)('$name', (c) => {
    const m = modelOf(c)
    expect({ outcome: m.outcome, fence: m.fence }).toEqual({ outcome: c.expect.outcome, fence: c.expect.fence })
    if (c.expect.counts !== undefined) expect(m.counts).toEqual(c.expect.counts)
  })

  it.each([
    [{ epoch: 3, holder: 'b' }, 2, 'a', 'older'],
    [{ epoch: 3, holder: 'b' }, 3, 'a', 'taken'],
    [{ epoch: 3, holder: 'b' }, 3, 'b', 'current'],
    [{ epoch: 3, holder: '' }, 3, 'a', 'current'],
    [{ epoch: 3, holder: 'b' }, 4, 'a', 'newer'],
    [{ epoch: 0, holder: '' }, 0, '', 'current']
  ])('fenceVerdict(%o, %i, %s) = %s', (f, epoch, holder, verdict) => {
    expect(fenceVerdict({ ...emptyFence, ...f }, epoch, holder)).toBe(verdict)
  })
})
