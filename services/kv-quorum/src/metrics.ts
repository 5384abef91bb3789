import { Counter, Gauge, type Registry } from 'prom-client'

export interface KvQuorumMetrics {
  operations: Counter<'op' | 'outcome'>
  readRepairs: Counter
  hintsStored: Counter<'reason'>
  hintsDelivered: Counter
  antiEntropyRecords: Counter<'direction'>
  hintsPending: Gauge
}

export function kvQuorumMetrics (registry: Registry, hintsPending: () => number): KvQuorumMetrics {
  return {
    operations: new Counter({ name: 'kvq_operations_total', help: 'Coordinated operations by outcome', labelNames: ['op', 'outcome'], registers: [registry] }),
    readRepairs: new Counter({ name: 'kvq_read_repairs_total', help: 'Stale replicas sent the newest record after a read', registers: [registry] }),
    hintsStored: new Counter({ name: 'kvq_hints_stored_total', help: 'Writes kept for a replica that missed them, by why it missed them (unknown: it may have them)', labelNames: ['reason'], registers: [registry] }),
    hintsDelivered: new Counter({ name: 'kvq_hints_delivered_total', help: 'Hints delivered to their replica', registers: [registry] }),
    antiEntropyRecords: new Counter({ name: 'kvq_anti_entropy_records_total', help: 'Records exchanged by anti-entropy', labelNames: ['direction'], registers: [registry] }),
    hintsPending: new Gauge({ name: 'kvq_hints_pending', help: 'Hints waiting for delivery', registers: [registry], collect () { this.set(hintsPending()) } })
  }
}
