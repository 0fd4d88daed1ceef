export * from './errors.js'
export * from './open-in-browser.js'
export * from './safe-fetch/index.js'
