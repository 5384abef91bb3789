import { Counter, Gauge, type Registry } from 'prom-client'
import type { ReplicaState } from './core/state.js'

/** What the driver reports as it goes. */
export type KvOutcome = 'acked' | 'failed' | 'refused' | 'elected' | 'stepped-down'

/**
 * kv-leader's series: the replica's protocol position (read at scrape time) and counters of
 * write outcomes and leadership changes.
 */
export function kvLeaderMetrics (registry: Registry, state: ReplicaState): (outcome: KvOutcome) => void {
  const gauge = (name: string, help: string, read: () => number): void => {
    void new Gauge({ name, help, registers: [registry], collect () { this.set(read()) } })
  }
  gauge('kv_leader_is_leader', '1 while this replica leads', () => state.role === 'leader' ? 1 : 0)
  gauge('kv_leader_epoch', 'Newest lease epoch this replica has seen', () => state.epoch)
  gauge('kv_leader_last_index', 'Index of the last entry in the log', () => state.log.lastIndex)
  gauge('kv_leader_commit_index', 'Highest index known to be held by a majority', () => state.commitIndex)
  gauge('kv_leader_applied_index', 'Highest index applied to the key-value store', () => state.store.appliedIndex)
  gauge('kv_leader_keys', 'Keys in the store', () => state.store.size)
  const writes = new Counter({ name: 'kv_leader_writes_total', help: 'Writes proposed on this replica, by outcome (acked, failed: not acknowledged by the deadline or the lease, refused: 4xx or not leader)', labelNames: ['outcome'], registers: [registry] })
  const leadership = new Counter({ name: 'kv_leader_leadership_changes_total', help: 'Times this replica took the lease (elected) or gave up leading (stepped-down)', labelNames: ['change'], registers: [registry] })
  return (outcome) => {
    if (outcome === 'elected' || outcome === 'stepped-down') leadership.inc({ change: outcome })
    else writes.inc({ outcome })
  }
}
