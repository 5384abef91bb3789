/** One sample of a Prometheus text exposition. */
export interface Sample { name: string, labels: Record<string, string>, value: number }

// values as Go's ParseFloat reads them: NaN and Inf in any case (prom-client writes `Nan`
// for a gauge with no sample yet, e.g. the event-loop lag of a process that just started)
const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|[nN][aA][nN]|[+-][iI][nN][fF])( -?\d+)?$/
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/**
 * A strict reader of the Prometheus text format (0.0.4): every line must be a comment, blank,
 * or a well-formed sample, and every sample's family must have been declared by # TYPE.
 */
export function parsePrometheus (text: string): Sample[] {
  const samples: Sample[] = []
  const declared = new Set<string>()
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue
    if (line.startsWith('# TYPE ')) {
      declared.add(line.split(' ')[2]!)
      continue
    }
    if (line.startsWith('#')) continue
    const m = sampleLine.exec(line)
    if (m === null) throw new Error(`line ${i + 1} is not a Prometheus sample: ${line}`)
    const name = m[1]!
    const family = [...declared].find((f) => name === f || name.startsWith(`${f}_`))
    if (family === undefined) throw new Error(`line ${i + 1}: ${name} has no # TYPE`)
    const labels: Record<string, string> = {}
    for (const [, k, v] of (m[3] ?? '').matchAll(labelPair)) labels[k!] = v!
    const raw = m[4]!.toLowerCase()
    samples.push({ name, labels, value: raw === 'nan' ? NaN : raw.endsWith('inf') ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw) })
  }
  return samples
}
