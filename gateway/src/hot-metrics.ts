import type { Registry } from 'prom-client'

/**
 * Counters and histograms for the proxy's hot path. prom-client hashes the label object on every
 * `inc`/`observe`, even through `labels()` children: at tens of thousands of requests per second
 * that alone cost the gateway several percent of its throughput. These keep plain numbers per
 * label values and hand them to the registry only when /metrics is scraped, in the shape
 * prom-client's own metrics produce (the registry formats them).
 */
interface Exposed {
  name: string
  help: string
  type: 'counter' | 'histogram'
  aggregator: 'sum'
  values: Array<{ labels: Record<string, string | number>, value: number, metricName?: string }>
}

export class HotCounter {
  readonly name: string
  readonly help: string
  readonly #labelNames: readonly string[]
  readonly #cells = new Map<string, { labels: string[], value: number }>()

  constructor (opts: { name: string, help: string, labelNames: readonly string[], registry: Registry }) {
    this.name = opts.name
    this.help = opts.help
    this.#labelNames = opts.labelNames
    opts.registry.registerMetric(this as never)
  }

  /** A cell for fixed label values: keep it and call `inc` on it. */
  cell (...labels: string[]): { value: number } {
    const key = labels.join('\u0000')
    let cell = this.#cells.get(key)
    if (cell === undefined) {
      cell = { labels, value: 0 }
      this.#cells.set(key, cell)
    }
    return cell
  }

  async get (): Promise<Exposed> {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      aggregator: 'sum',
      values: [...this.#cells.values()].map((c) => ({ labels: labelsOf(this.#labelNames, c.labels), value: c.value }))
    }
  }

  reset (): void { this.#cells.clear() }
}

export interface HistogramCell { counts: Float64Array, sum: number, count: number }

export class HotHistogram {
  readonly name: string
  readonly help: string
  readonly #labelNames: readonly string[]
  readonly #buckets: readonly number[]
  readonly #cells = new Map<string, HistogramCell & { labels: string[] }>()

  constructor (opts: { name: string, help: string, labelNames: readonly string[], buckets: readonly number[], registry: Registry }) {
    this.name = opts.name
    this.help = opts.help
    this.#labelNames = opts.labelNames
    this.#buckets = opts.buckets
    opts.registry.registerMetric(this as never)
  }

  cell (...labels: string[]): HistogramCell {
    const key = labels.join('\u0000')
    let cell = this.#cells.get(key)
    if (cell === undefined) {
      cell = { labels, counts: new Float64Array(this.#buckets.length), sum: 0, count: 0 }
      this.#cells.set(key, cell)
    }
    return cell
  }

  observe (cell: HistogramCell, value: number): void {
    const buckets = this.#buckets
    for (let i = 0; i < buckets.length; i++) {
      if (value <= buckets[i]!) {
        cell.counts[i]! += 1
        break
      }
    }
    cell.sum += value
    cell.count += 1
  }

  async get (): Promise<Exposed> {
    const values: Exposed['values'] = []
    for (const cell of this.#cells.values()) {
      const labels = labelsOf(this.#labelNames, cell.labels)
      let cumulative = 0
      this.#buckets.forEach((le, i) => {
        cumulative += cell.counts[i]!
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { ...labels, le: '+Inf' }, value: cell.count, metricName: `${this.name}_bucket` })
      values.push({ labels, value: cell.sum, metricName: `${this.name}_sum` })
      values.push({ labels, value: cell.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values }
  }

  reset (): void { this.#cells.clear() }
}

function labelsOf (names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {}
  names.forEach((name, i) => { labels[name] = values[i] ?? '' })
  return labels
}
