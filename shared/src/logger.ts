import { pino, type Logger, type LoggerOptions } from 'pino'

export type { Logger }

/**
 * One pino logger per process. Every line carries the service and instance id; Fastify adds
 * `reqId` (the x-request-id) to every line logged while handling a request.
 */
export function createLogger (opts: { service: string, instanceId: string, level?: string }): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service, instance: opts.instanceId, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime
  }
  return pino(options)
}
