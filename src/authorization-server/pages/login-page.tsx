/**
 * The login page: username and password, posted with the transaction id and CSRF token.
 *
 * @module
 */
import { htmlResponse } from './html-response.js'
import { Layout } from './layout.js'

/** Props of {@link loginPage}. Every string is escaped when rendered. */
export interface LoginPageProps {
  /** The path the form POSTs to. */
  action: string
  /** Posted back as `transaction`. */
  transactionId: string
  /** Posted back as `csrf`. */
  csrfToken: string
  /** The name of the application the user is signing in to. */
  clientName: string
  /** Pre-filled username (after a failed attempt). */
  username?: string
  /** A message shown above the form, announced to screen readers. */
  error?: string
  /** Default 200. */
  status?: number
  /** Where the stylesheet is served when the server is mounted under a path prefix. */
  stylesheetPath?: string
}

function LoginPage(props: LoginPageProps) {
  const hasUsername = props.username !== undefined && props.username !== ''
  return (
    <Layout
      title="Sign in"
      {...(props.stylesheetPath === undefined ? {} : { stylesheetPath: props.stylesheetPath })}
    >
      <h1>Sign in</h1>
      <p class="lead">
        to continue to <strong>{props.clientName}</strong>
      </p>
      {props.error !== undefined && props.error !== '' ? (
        <div class="alert" role="alert" id="login-error">
          {props.error}
        </div>
      ) : null}
      <form method="post" action={props.action}>
        <input type="hidden" name="transaction" value={props.transactionId} />
        <input type="hidden" name="csrf" value={props.csrfToken} />
        <div class="field">
          <label for="username">Username</label>
          <input
            type="text"
            id="username"
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            required
            maxlength={256}
            value={props.username ?? ''}
            autofocus={!hasUsername}
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            type="password"
            id="password"
            name="password"
            autocomplete="current-password"
            required
            maxlength={1024}
            autofocus={hasUsername}
            {...(props.error !== undefined && props.error !== ''
              ? { 'aria-describedby': 'login-error' }
              : {})}
          />
        </div>
        <button type="submit" class="button button-primary button-block">
          Sign in
        </button>
      </form>
    </Layout>
  )
}

/**
 * The login page as a `Response`. Posts `transaction`, `csrf`, `username` and `password` to
 * `action`, with the security headers of every page.
 *
 * @see [OAuth 2.1 §4.1.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.1) the authorization server authenticates the resource owner
 * @see [RFC 9700 §4.16](https://www.rfc-editor.org/rfc/rfc9700#section-4.16) clickjacking
 */
export function loginPage(props: LoginPageProps): Response {
  return htmlResponse(<LoginPage {...props} />, { status: props.status ?? 200 })
}
