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

/** Props of {@link Field}. */
interface FieldProps {
  type: 'text' | 'password'
  /** The input's `name` and `id`. */
  name: string
  label: string
  autocomplete: string
  maxlength: number
  autofocus: boolean
  /** The input's other attributes. */
  attributes?: Record<string, string | boolean>
}

/** One required input with its label. */
function Field(props: FieldProps) {
  return (
    <div class="field">
      <label for={props.name}>{props.label}</label>
      <input
        type={props.type}
        id={props.name}
        name={props.name}
        autocomplete={props.autocomplete}
        required
        maxlength={props.maxlength}
        autofocus={props.autofocus}
        {...props.attributes}
      />
    </div>
  )
}

function LoginPage(props: LoginPageProps) {
  const hasUsername = props.username !== undefined && props.username !== ''
  const hasError = props.error !== undefined && props.error !== ''
  return (
    <Layout
      title="Sign in"
      {...(props.stylesheetPath === undefined ? {} : { stylesheetPath: props.stylesheetPath })}
    >
      <h1>Sign in</h1>
      <p class="lead">
        to continue to <strong>{props.clientName}</strong>
      </p>
      {hasError ? (
        <div class="alert" role="alert" id="login-error">
          {props.error}
        </div>
      ) : null}
      <form method="post" action={props.action}>
        <input type="hidden" name="transaction" value={props.transactionId} />
        <input type="hidden" name="csrf" value={props.csrfToken} />
        <Field
          type="text"
          name="username"
          label="Username"
          autocomplete="username"
          maxlength={256}
          autofocus={!hasUsername}
          attributes={{ autocapitalize: 'none', spellcheck: false, value: props.username ?? '' }}
        />
        <Field
          type="password"
          name="password"
          label="Password"
          autocomplete="current-password"
          maxlength={1024}
          autofocus={hasUsername}
          {...(hasError ? { attributes: { 'aria-describedby': 'login-error' } } : {})}
        />
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
