import { Agent, request } from 'undici'
import { integer } from '../../shared/src/config.js'
import { envKnobs } from '../cli.js'
import { BenchCluster } from './harness.js'

/**
 * `npm run bench:scale-up`: how long from the decision to add an instance (the moment the
 * launcher spawns it) to the first request it serves through the gateway, while traffic flows.
 * Covers process start, listen, registration, the gateway noticing, and the balancer choosing it.
 */
const { samples } = envKnobs({ samples: integer('SAMPLES', 10, { min: 1 }) })

const cluster = new BenchCluster()
try {
  await cluster.startRedis()
  await cluster.startService('echo', { INSTANCE_ID: 'echo-1' })
  const gateway = await cluster.startGateway({ NINES_SERVICES: 'echo' })
  const agent = new Agent({ connections: 4 })
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const id = `echo-new-${i}`
    const decided = performance.now()
    const starting = cluster.startService('echo', { INSTANCE_ID: id })
    let served = 0
    // traffic keeps flowing from 4 clients, as it would when an autoscaler decides
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (served === 0 && performance.now() - decided < 10_000) {
        const res = await request(`${gateway.url}/api/echo/x`, { dispatcher: agent })
        await res.body.dump()
        if (res.headers['x-instance-id'] === id && served === 0) served = performance.now()
      }
    }))
    const proc = await starting
    times.push(served - decided)
    proc.child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 800))
  }
  await agent.close()
  times.sort((a, b) => a - b)
  const at = (q: number): number => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!
  process.stdout.write([
    `scale-up: decision → first request served by the new instance, ${samples} samples, node ${process.version}`,
    `p50 ${at(0.5).toFixed(0)} ms   p90 ${at(0.9).toFixed(0)} ms   max ${times[times.length - 1]!.toFixed(0)} ms`,
    ''
  ].join('\n'))
} finally {
  await cluster.stop()
}
