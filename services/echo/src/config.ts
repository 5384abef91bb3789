import { integer, number, type ConfigSpec } from '../../../shared/src/config.js'

/**
 * Echo's own settings: an injected slowness, so tests and `bench:tail` can make one instance of
 * the pool slow (a share of its requests answered late) without touching the others.
 */
export const echoSpec = {
  /** Extra delay added to a share of this instance's requests, on top of any `?delay`. */
  slowMs: integer('ECHO_SLOW_MS', 0, { min: 0, max: 30_000 }),
  /** The share of requests (drawn at random) that get `ECHO_SLOW_MS`. */
  slowShare: number('ECHO_SLOW_SHARE', 0, { min: 0, max: 1 })
} satisfies ConfigSpec
