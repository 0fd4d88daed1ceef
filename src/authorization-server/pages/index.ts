/**
 * Server-rendered pages of the authorization server: login, consent, error, and their stylesheet.
 *
 * @module
 */
export type { ConsentPageProps } from './consent-page.js'
export { consentPage } from './consent-page.js'
export type { ErrorPageProps } from './error-page.js'
export { errorPage } from './error-page.js'
export {
  contentSecurityPolicy,
  formActionSource,
  formActionSourceFor,
  sanitizeFormActionSources,
} from './form-action.js'
export type { HtmlResponseOptions } from './html-response.js'
export { pageHeaders } from './html-response.js'
export type { LoginPageProps } from './login-page.js'
export { loginPage } from './login-page.js'
export { STYLESHEET_PATH, stylesheetHref, stylesheetResponse } from './stylesheet.js'
