import { describe, expect, it } from 'vitest'
import { decide, initialAutoscaleState, type AutoscalePolicy, type AutoscaleSample, type AutoscaleState } from '../../scripts/launcher/autoscale/policy.js'

const policy: AutoscalePolicy = { min: 2, max: 4, targetP99Ms: 50, upWindowMs: 3_000, downWindowMs: 10_000, cooldownMs: 5_000, quietRpsPerInstance: 5 }

/** Feeds samples one second apart and returns the actions taken. */
function run (samples: Array<Omit<AutoscaleSample, 'now'>>, start = 100_000): string[] {
  let state: AutoscaleState = initialAutoscaleState
  return samples.map((s, i) => {
    const out = decide(policy, state, { ...s, now: start + i * 1_000 })
    state = out.state
    return out.decision.action
  })
}

describe('autoscaling policy', () => {
  it('scales up only after p99 stays above target for the window', () => {
    const hot = { instances: 2, p99Ms: 80, rps: 500 }
    expect(run([hot, hot, hot, hot])).toEqual(['none', 'none', 'none', 'up'])
  })

  it('does not react to a single spike', () => {
    const hot = { instances: 2, p99Ms: 80, rps: 500 }
    const ok = { instances: 2, p99Ms: 40, rps: 500 }
    expect(run([hot, hot, ok, hot, hot, ok])).toEqual(['none', 'none', 'none', 'none', 'none', 'none'])
  })

  it('waits out the cooldown after an action', () => {
    const hot = (instances: number): Omit<AutoscaleSample, 'now'> => ({ instances, p99Ms: 80, rps: 500 })
    const actions = run([hot(2), hot(2), hot(2), hot(2), hot(3), hot(3), hot(3), hot(3), hot(3), hot(3), hot(3), hot(3)])
    expect(actions.indexOf('up')).toBe(3)
    expect(actions.lastIndexOf('up')).toBe(11) // 5 s cooldown, then a fresh 3 s window
  })

  it('never goes above max or below min', () => {
    expect(run(Array.from({ length: 20 }, () => ({ instances: 4, p99Ms: 500, rps: 100 })))).not.toContain('up')
    expect(run(Array.from({ length: 20 }, () => ({ instances: 2, p99Ms: 0, rps: 0 })))).not.toContain('down')
  })

  it('scales down after staying quiet for the down window', () => {
    const idle = { instances: 4, p99Ms: 0, rps: 0 }
    const actions = run(Array.from({ length: 12 }, () => idle))
    expect(actions.indexOf('down')).toBe(10)
  })

  it('counts a service with little traffic as quiet whatever its latency, and never scales it up', () => {
    const actions = run(Array.from({ length: 12 }, () => ({ instances: 3, p99Ms: 90, rps: 6 })))
    expect(actions).not.toContain('up')
    expect(actions.indexOf('down')).toBe(10)
  })

  it('holds steady in the band between quiet and above target (hysteresis)', () => {
    expect(run(Array.from({ length: 30 }, () => ({ instances: 3, p99Ms: 35, rps: 200 })))).not.toContain('down')
  })

  it('repairs a count outside the bounds at once', () => {
    expect(run([{ instances: 1, p99Ms: 0, rps: 0 }])).toEqual(['up'])
    expect(run([{ instances: 5, p99Ms: 0, rps: 0 }])).toEqual(['down'])
  })
})
