#!/usr/bin/env node
import pc from 'picocolors'
import { CliError } from './errors.js'
import { createProgram } from './program.js'

try {
  await createProgram().parseAsync(process.argv)
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`${pc.red('error:')} ${error.message}\n`)
    if (error.fix !== undefined) process.stderr.write(`${pc.cyan('fix:')} ${error.fix}\n`)
    process.exitCode = error.exitCode
  } else {
    // An unexpected failure: the message only (a stack trace helps no newcomer; set DEBUG for it).
    process.stderr.write(`${pc.red('error:')} ${error instanceof Error ? error.message : String(error)}\n`)
    if (process.env['DEBUG'] !== undefined && error instanceof Error) process.stderr.write(`${error.stack}\n`)
    process.exitCode = 1
  }
}
