/**
 * The settings of `portcullis serve`: defaults, then a JSON `--config` file, then flags.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { CliError } from '../errors.js'

/** Resolved settings. */
export interface ServeConfig {
  port: number
  host: string
  dataDir: string
  /** The public URL of the authorization server; default `http://<host>:<port>`. */
  issuer?: string
  /** A Postgres connection string: the shared store for several replicas. */
  postgres?: string
  /** Run the proxy in front of this upstream identity provider instead of local accounts. */
  upstream?: string
  logFormat: 'text' | 'json'
}

/** The defaults: a newcomer's local setup. */
export const SERVE_DEFAULTS = {
  port: 8787,
  host: '127.0.0.1',
  dataDir: '.portcullis',
  logFormat: 'text',
} as const

const port = z.coerce.number().int().min(0).max(65535)

/** The `--config` file: every key optional, unknown keys refused (a typo should not pass silently). */
export const serveConfigFileSchema = z.strictObject({
  port: port.optional(),
  host: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  issuer: z.url({ protocol: /^https?$/ }).optional(),
  postgres: z.string().min(1).optional(),
  upstream: z.string().min(1).optional(),
  logFormat: z.enum(['text', 'json']).optional(),
})

/** The flags as commander hands them over (strings; absent when not given). */
export interface ServeFlags {
  port?: string
  host?: string
  dataDir?: string
  issuer?: string
  postgres?: string
  upstream?: string
  config?: string
  logFormat?: string
}

function parseFlags(flags: ServeFlags): z.infer<typeof serveConfigFileSchema> {
  const { config: _config, ...rest } = flags
  const result = serveConfigFileSchema.safeParse(
    Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)),
  )
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new CliError(
      'ERR_USAGE',
      `--${String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue?.message}`,
    )
  }
  return result.data
}

function readConfigFile(path: string): z.infer<typeof serveConfigFileSchema> {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new CliError('ERR_CONFIG', `cannot read the config file ${path}: ${(error as Error).message}`, {
      fix: 'Pass a JSON file, e.g. {"port": 8787, "issuer": "https://auth.example.com"}.',
    })
  }
  const result = serveConfigFileSchema.safeParse(json)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new CliError(
      'ERR_CONFIG',
      `${path}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message}`,
      {
        fix: 'Allowed keys: port, host, dataDir, issuer, postgres, upstream, logFormat.',
      },
    )
  }
  return result.data
}

/** Merges defaults, the config file and the flags (flags win). */
export function resolveServeConfig(flags: ServeFlags): ServeConfig {
  const file = flags.config === undefined ? {} : readConfigFile(flags.config)
  const merged = { ...file, ...parseFlags(flags) }
  const config: ServeConfig = {
    port: merged.port ?? SERVE_DEFAULTS.port,
    host: merged.host ?? SERVE_DEFAULTS.host,
    dataDir: merged.dataDir ?? SERVE_DEFAULTS.dataDir,
    logFormat: merged.logFormat ?? SERVE_DEFAULTS.logFormat,
  }
  if (merged.issuer !== undefined) config.issuer = merged.issuer.replace(/\/$/, '')
  if (merged.postgres !== undefined) config.postgres = merged.postgres
  if (merged.upstream !== undefined) config.upstream = merged.upstream
  return config
}
