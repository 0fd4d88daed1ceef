/**
 * The report as text for a terminal (one block per finding) and as one JSON document.
 *
 * @module
 */
import pc from 'picocolors'
import type { DoctorReport, Finding, FindingStatus } from './finding.js'

const MARK: Record<FindingStatus, (colors: typeof pc) => string> = {
  pass: (c) => c.green('✔ pass'),
  warn: (c) => c.yellow('▲ warn'),
  fail: (c) => c.red('✖ fail'),
  skip: (c) => c.dim('- skip'),
}

/** One finding as text: the status and title, then what was seen, the fix and the sections. */
export function formatFinding(finding: Finding, colors: typeof pc = pc): string {
  const lines = [
    `${MARK[finding.status](colors)}  ${colors.bold(finding.title)}`,
    `        ${finding.message}`,
  ]
  if (finding.fix !== undefined) lines.push(`        ${colors.cyan('fix:')} ${finding.fix}`)
  lines.push(`        ${colors.dim(finding.spec.map((ref) => ref.label).join(' · '))}`)
  return lines.join('\n')
}

/** The closing line: how many passed, warned and failed. */
export function formatSummary(report: DoctorReport, colors: typeof pc = pc): string {
  const { pass, warn, fail } = report.summary
  const parts = [
    colors.green(`${pass} passed`),
    colors.yellow(`${warn} warning${warn === 1 ? '' : 's'}`),
    colors.red(`${fail} failed`),
  ]
  return parts.join(', ')
}

/** The whole report as text. */
export function formatReport(report: DoctorReport, colors: typeof pc = pc): string {
  return [
    ...report.findings.map((finding) => formatFinding(finding, colors)),
    '',
    formatSummary(report, colors),
  ].join('\n')
}

/** The report as one JSON document, spec links included. */
export function formatReportJson(report: DoctorReport): string {
  return JSON.stringify(report, null, 2)
}
