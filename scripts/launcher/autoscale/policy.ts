export interface AutoscalePolicy {
  min: number
  max: number
  /** Scale up when the service's p99 stays above this. @default 50 */
  targetP99Ms: number
  /** How long p99 must stay above target before adding an instance. @default 3000 */
  upWindowMs: number
  /** How long the service must stay quiet (p99 under half the target, or no traffic) before removing one. @default 15000 */
  downWindowMs: number
  /** No decision for this long after one: lets the last change show in the figures. @default 5000 */
  cooldownMs: number
  /** Below this many requests per second per instance the service counts as quiet whatever its latency. @default 5 */
  quietRpsPerInstance: number
}

export interface AutoscaleSample {
  now: number
  instances: number
  p99Ms: number
  rps: number
}

export interface AutoscaleState {
  aboveSince: number | undefined
  quietSince: number | undefined
  lastActionAt: number
}

export type Decision = { action: 'up' | 'down' | 'none', reason: string }

export const initialAutoscaleState: AutoscaleState = { aboveSince: undefined, quietSince: undefined, lastActionAt: -Infinity }

/**
 * One autoscaling step, pure: scale up when p99 stays above the target for a window, down when
 * the service stays quiet (little traffic, or p99 well under target) for a longer one. Hysteresis (a band between "quiet" and "above target"
 * where nothing happens) and a cooldown after every action keep it from flapping.
 */
export function decide (policy: AutoscalePolicy, state: AutoscaleState, s: AutoscaleSample): { state: AutoscaleState, decision: Decision } {
  if (s.instances < policy.min) return act(state, s.now, 'up', `${s.instances} below min ${policy.min}`)
  if (s.instances > policy.max) return act(state, s.now, 'down', `${s.instances} above max ${policy.max}`)
  // the figures still carry the time before the last change: during the cooldown, observe nothing
  if (s.now - state.lastActionAt < policy.cooldownMs) return { state: { ...initialAutoscaleState, lastActionAt: state.lastActionAt }, decision: { action: 'none', reason: 'cooldown' } }
  const quiet = s.rps < policy.quietRpsPerInstance * s.instances || s.p99Ms < policy.targetP99Ms / 2
  // a slow trickle is no reason to add instances: latency counts only under real traffic
  const above = !quiet && s.p99Ms > policy.targetP99Ms
  const next: AutoscaleState = {
    aboveSince: above ? state.aboveSince ?? s.now : undefined,
    quietSince: quiet ? state.quietSince ?? s.now : undefined,
    lastActionAt: state.lastActionAt
  }
  if (next.aboveSince !== undefined && s.now - next.aboveSince >= policy.upWindowMs && s.instances < policy.max) {
    return act(next, s.now, 'up', `p99 ${s.p99Ms.toFixed(1)} ms above ${policy.targetP99Ms} ms for ${s.now - next.aboveSince} ms`)
  }
  if (next.quietSince !== undefined && s.now - next.quietSince >= policy.downWindowMs && s.instances > policy.min) {
    return act(next, s.now, 'down', `quiet for ${s.now - next.quietSince} ms (p99 ${s.p99Ms.toFixed(1)} ms, ${s.rps.toFixed(0)} req/s)`)
  }
  return { state: next, decision: { action: 'none', reason: above ? 'above target, waiting' : quiet ? 'quiet, waiting' : 'within band' } }
}

function act (state: AutoscaleState, now: number, action: 'up' | 'down', reason: string): { state: AutoscaleState, decision: Decision } {
  return { state: { aboveSince: undefined, quietSince: undefined, lastActionAt: now }, decision: { action, reason } }
}
