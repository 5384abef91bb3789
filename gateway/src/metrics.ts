import { Counter, Histogram, type Registry } from 'prom-client'
import { latencyBuckets } from '../../shared/src/service/metrics.js'

export interface GatewayMetrics {
  requests: Counter<'service' | 'status'>
  duration: Histogram<'service'>
  picks: Counter<'service' | 'instance'>
  retries: Counter<'service'>
  upstreamErrors: Counter<'service' | 'cause'>
  ejections: Counter<'service' | 'instance'>
}

export function gatewayMetrics (registry: Registry): GatewayMetrics {
  const registers = [registry]
  return {
    requests: new Counter({ name: 'gateway_requests_total', help: 'Proxied requests by service and final status', labelNames: ['service', 'status'], registers }),
    duration: new Histogram({ name: 'gateway_request_duration_seconds', help: 'Proxied request time, retries included', labelNames: ['service'], buckets: latencyBuckets, registers }),
    picks: new Counter({ name: 'gateway_balancer_picks_total', help: 'Tries sent to each instance', labelNames: ['service', 'instance'], registers }),
    retries: new Counter({ name: 'gateway_retries_total', help: 'Tries repeated on another instance', labelNames: ['service'], registers }),
    upstreamErrors: new Counter({ name: 'gateway_upstream_errors_total', help: 'Failed tries by cause', labelNames: ['service', 'cause'], registers }),
    ejections: new Counter({ name: 'gateway_ejections_total', help: 'Outlier ejections', labelNames: ['service', 'instance'], registers })
  }
}
