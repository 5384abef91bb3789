import { request } from 'undici'

/** Shared by the compute integration tests: HTTP, polling and metric helpers. */
export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: any
  ms: number
}

export async function get (url: string, init: { signal?: AbortSignal, headers?: Record<string, string> } = {}): Promise<Answer> {
  const t0 = performance.now()
  const res = await request(url, { ...init })
  const text = await res.body.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  return { status: res.statusCode, headers: res.headers, body, ms: performance.now() - t0 }
}

export async function send (url: string, method: 'POST' | 'DELETE', json?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const t0 = performance.now()
  const res = await request(url, {
    method,
    headers: json === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(json === undefined ? {} : { body: JSON.stringify(json) })
  })
  const text = await res.body.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  return { status: res.statusCode, headers: res.headers, body, ms: performance.now() - t0 }
}

/** Sums a Prometheus counter over the series whose labels include every `labels` pair. */
export async function metric (baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await request(`${baseUrl}/metrics`)
  const text = await res.body.text()
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}
