/**
 * Errors a command reports to the user: what went wrong and how to fix it, with the exit code.
 *
 * @module
 */
import { PortcullisError } from '../protocol/errors.js'

/**
 * - `ERR_USAGE`: the command line is wrong (exit code 2).
 * - `ERR_CONFIG`: a configuration file or value is unusable.
 * - `ERR_NOT_AVAILABLE`: the feature needs a part of Portcullis this build does not have yet.
 * - `ERR_RUNTIME`: the command failed while running.
 */
export type CliErrorCode = 'ERR_USAGE' | 'ERR_CONFIG' | 'ERR_NOT_AVAILABLE' | 'ERR_RUNTIME'

/** A failure the command explains to the user; `fix` says what to do about it. */
export class CliError extends PortcullisError<CliErrorCode> {
  /** What the user can do about it. */
  readonly fix: string | undefined
  /** The process exit code. */
  readonly exitCode: number

  constructor(code: CliErrorCode, message: string, options: { fix?: string; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause })
    this.fix = options.fix
    this.exitCode = code === 'ERR_USAGE' ? 2 : 1
  }
}
