/**
 * The error page: shown instead of a redirect when the request cannot be trusted to go back to
 * the client (unknown client, unregistered redirect URI, expired transaction).
 *
 * @module
 */
import { htmlResponse } from './html-response.js'
import { Layout } from './layout.js'

/** Props of {@link errorPage}. Every string is escaped when rendered. */
export interface ErrorPageProps {
  status: number
  title: string
  message: string
  /** Where the stylesheet is served when the server is mounted under a path prefix. */
  stylesheetPath?: string
}

function ErrorPage(props: ErrorPageProps) {
  return (
    <Layout
      title={props.title}
      {...(props.stylesheetPath === undefined ? {} : { stylesheetPath: props.stylesheetPath })}
    >
      <h1>{props.title}</h1>
      <p class="lead">{props.message}</p>
      <p class="fineprint">You can close this window and start again from the application.</p>
    </Layout>
  )
}

/**
 * The error page as a `Response` with the given status and the security headers of every page.
 *
 * @see [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1) invalid client or redirect URI: inform the resource owner, do not redirect
 */
export function errorPage(props: ErrorPageProps): Response {
  return htmlResponse(<ErrorPage {...props} />, { status: props.status })
}
