/**
 * The log of `portcullis serve`: one line per event on stderr, as text or JSON
 * (`--log-format json`). Events carry no tokens or secrets: the audit events of the
 * authorization server are made for logging, and rejections are logged by reason and code only.
 *
 * @module
 */
import pc from 'picocolors'

/** Log levels. */
export type LogLevel = 'info' | 'warn' | 'error'

/** Writes log events. */
export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  format: 'text' | 'json'
  stream?: NodeJS.WritableStream
  clock?: () => Date
}

function textValue(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : Array.isArray(value) && value.every((item) => typeof item === 'string')
        ? value.join(',')
        : JSON.stringify(value)
  return /[\s"=]/.test(text ?? '') ? JSON.stringify(text) : String(text)
}

/** A logger writing one line per event. */
export function createLogger(options: LoggerOptions): Logger {
  const stream = options.stream ?? process.stderr
  const clock = options.clock ?? (() => new Date())
  if (options.format === 'json') {
    return {
      log(level, event, fields = {}) {
        stream.write(`${JSON.stringify({ time: clock().toISOString(), level, event, ...fields })}\n`)
      },
    }
  }
  const colour = { info: pc.dim, warn: pc.yellow, error: pc.red } as const
  return {
    log(level, event, fields = {}) {
      const pairs = Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key}=${textValue(value)}`)
      stream.write(
        `${colour[level](`${clock().toISOString().slice(11, 19)} ${level.padEnd(5)}`)} ${event}${pairs.length ? ` ${pairs.join(' ')}` : ''}\n`,
      )
    },
  }
}
