/**
 * What one doctor check reports: a status, what was seen, how to fix it, and the spec sections
 * that say so.
 *
 * @module
 */

/** `pass`: as the spec wants; `warn`: works, but some clients or a newer revision will struggle; `fail`: clients will refuse; `skip`: not checked because an earlier step failed. */
export type FindingStatus = 'pass' | 'warn' | 'fail' | 'skip'

/** A citation: a short label (`RFC 9728 §3.3`) and the link to the section. */
export interface SpecRef {
  label: string
  url: string
}

/** One result of a check. */
export interface Finding {
  /** Stable identifier of the check, e.g. `prm.resource`; scripts match on it. */
  id: string
  status: FindingStatus
  /** The rule checked, in a few words. */
  title: string
  /** What was seen. Text from the server is made printable and shortened first. */
  message: string
  /** How to fix it (warn and fail only). */
  fix?: string
  /** The URL this finding is about, when there is one. */
  url?: string
  /** The spec sections that state the rule. */
  spec: SpecRef[]
}

/** Everything one `doctor` run found. */
export interface DoctorReport {
  /** The MCP endpoint that was checked, as given. */
  mcpUrl: string
  /** True when nothing failed. */
  ok: boolean
  summary: Record<FindingStatus, number>
  findings: Finding[]
}

/** Builds the report of a run from its findings. */
export function summarize(mcpUrl: string, findings: readonly Finding[]): DoctorReport {
  const summary: Record<FindingStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 }
  for (const finding of findings) summary[finding.status]++
  return { mcpUrl, ok: summary.fail === 0, summary, findings: [...findings] }
}

/** C0 and C1 controls (escape sequences among them), zero-width and bidirectional controls. */
function isUnsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  )
}

/**
 * Server-chosen text made safe to print: control characters (terminal escape sequences among
 * them) and bidirectional overrides become `?`, and the text is cut at `max` characters.
 */
export function printable(value: unknown, max = 160): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  let clean = ''
  for (const char of text) clean += isUnsafe(char.charCodeAt(0)) ? '?' : char
  return clean.length > max ? `${clean.slice(0, max)}…` : clean
}
