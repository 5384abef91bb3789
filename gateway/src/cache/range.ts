/**
 * Answering a byte-range request from a stored complete response (RFC 9110 §14, RFC 9111 §3.3
 * ends with the cache's right to do so). Only a single satisfiable range is served as a 206;
 * anything else (several ranges, an unknown unit, a failed If-Range) gets the whole response,
 * which a server may always send instead.
 */
import { weakMatch } from './validation.js'

export interface ByteRange {
  start: number
  /** Inclusive. */
  end: number
}

/** The one range a `Range: bytes=…` header asks of a `length`-byte body, or undefined. */
export function parseRange (header: string | undefined, length: number): ByteRange | undefined {
  if (header === undefined) return undefined
  const m = /^bytes=(\d*)-(\d*)$/i.exec(header.trim())
  if (m === null || length === 0) return undefined
  const [, first = '', last = ''] = m
  if (first === '' && last === '') return undefined
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0) return undefined
    return { start: Math.max(0, length - suffix), end: length - 1 }
  }
  const start = Number(first)
  const end = last === '' ? length - 1 : Math.min(Number(last), length - 1)
  if (end < start) return undefined
  return { start, end }
}

/**
 * `If-Range` (RFC 9110 §13.1.5): the range applies only if the validator still names the stored
 * response — a strong entity-tag equal to its own, or its exact `Last-Modified` date.
 */
export function ifRangeHolds (ifRange: string | undefined, stored: { etag?: string | undefined, lastModified?: string | undefined }): boolean {
  if (ifRange === undefined) return true
  const value = ifRange.trim()
  if (value.startsWith('"')) return stored.etag !== undefined && !stored.etag.startsWith('W/') && weakMatch(value, stored.etag)
  if (value.startsWith('W/')) return false
  return stored.lastModified !== undefined && value === stored.lastModified
}

export function contentRange (range: ByteRange, length: number): string {
  return `bytes ${range.start}-${range.end}/${length}`
}
