/**
 * Progress for anything slow: a spinner on a terminal, plain lines otherwise. Always on stderr,
 * so stdout carries only the command's output (and, for `bridge`, only MCP messages).
 *
 * @module
 */
import { spinner } from '@clack/prompts'
import pc from 'picocolors'

/** Shows what a command is doing. */
export interface Progress {
  /** A step started. */
  step(message: string): void
  /** The work ended well; the spinner is removed, a plain line is printed when given. */
  done(message?: string): void
  /** The work failed. */
  fail(message: string): void
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Where progress goes. Default `process.stderr`. */
  stream?: NodeJS.WriteStream
  /** No progress at all (`--json`, `--quiet`). */
  silent?: boolean
}

/** A spinner when `stream` is a terminal, plain `… step` lines when it is not, nothing when silent. */
export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr
  if (options.silent === true) return { step() {}, done() {}, fail() {} }
  if (stream.isTTY !== true) {
    return {
      step: (message) => void stream.write(`… ${message}\n`),
      done: (message) => void (message === undefined ? undefined : stream.write(`${message}\n`)),
      fail: (message) => void stream.write(`${message}\n`),
    }
  }
  const spin = spinner({ output: stream, withGuide: false })
  let running = false
  return {
    step(message) {
      if (running) spin.message(message)
      else spin.start(message)
      running = true
    },
    done(message) {
      if (!running) {
        if (message !== undefined) stream.write(`${message}\n`)
        return
      }
      running = false
      if (message === undefined) spin.clear()
      else spin.stop(message)
    },
    fail(message) {
      if (running) spin.error(pc.red(message))
      else stream.write(`${pc.red(message)}\n`)
      running = false
    },
  }
}
