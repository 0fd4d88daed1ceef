export * from './context.js'
export * from './finding.js'
export * from './format-report.js'
export * from './run-doctor.js'
