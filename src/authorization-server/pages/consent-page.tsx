/**
 * The consent page: who is asking, where the browser goes next, what it may access; Approve or
 * Deny.
 *
 * @module
 */
import { html } from 'hono/html'
import { htmlResponse } from './html-response.js'
import { Layout } from './layout.js'

/** Props of {@link consentPage}. Every string is escaped when rendered. */
export interface ConsentPageProps {
  /** The path the form POSTs to. */
  action: string
  /** Posted back as `transaction`. */
  transactionId: string
  /** Posted back as `csrf`. */
  csrfToken: string
  client: {
    id: string
    /** The client's name (for dynamically registered and CIMD clients, chosen by the client). */
    name: string
    /** The host of a Client ID Metadata Document `client_id`: the domain vouching for the client. */
    cimdHost?: string
  }
  /** The redirect URI the browser is sent to after the decision. */
  redirectUri: string
  /** Its host, shown prominently. */
  redirectHost: string
  /** The redirect goes to this device (loopback): any local program could receive it. */
  localhostOnly: boolean
  resource: { uri: string; name?: string }
  scopes: { name: string; description?: string }[]
  /** The signed-in user. */
  user: { subject: string; name?: string }
  /** Offer "remember this decision" (posted as `remember=on`). */
  allowRemember: boolean
  /**
   * `form-action` sources that let the browser follow the redirect after the POST (the redirect
   * URI's origin or private-use scheme; the upstream IdP's origin for the proxy). Sanitized.
   */
  formActionSources: string[]
  /** For the proxy: the identity provider the user signs in with next, e.g. "GitHub". */
  upstreamName?: string
  /** Default 200. */
  status?: number
  /** Where the stylesheet is served when the server is mounted under a path prefix. */
  stylesheetPath?: string
}

function initialOf(name: string): string {
  const first = [...name.trim()][0]
  return first === undefined ? '?' : first.toUpperCase()
}

// Written with `html`, not JSX, for the reason given in layout.tsx. Same markup.
function CheckIcon() {
  return html`<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M3 8.5l3 3 7-7"></path></svg>`
}

function ConsentPage(props: ConsentPageProps) {
  const { client, resource, user } = props
  const resourceLabel = resource.name !== undefined && resource.name !== '' ? resource.name : resource.uri
  return (
    <Layout
      title={`Authorize ${client.name}`}
      wide
      {...(props.stylesheetPath === undefined ? {} : { stylesheetPath: props.stylesheetPath })}
    >
      <div class="client">
        <div class="avatar" aria-hidden="true">
          {initialOf(client.name)}
        </div>
        <div>
          <h1>
            Allow <span class="client-name">{client.name}</span> to access {resourceLabel}?
          </h1>
          {client.cimdHost !== undefined && client.cimdHost !== '' ? (
            <p class="badge badge-verified">
              <CheckIcon />
              <span>
                Verified domain: <span class="cimd-host">{client.cimdHost}</span>
              </span>
            </p>
          ) : null}
        </div>
      </div>
      <p class="meta">
        Signed in as <strong>{user.name !== undefined && user.name !== '' ? user.name : user.subject}</strong>
      </p>

      <section class="panel" aria-labelledby="destination-heading">
        {/* MCP security best practices: show where the authorization code goes. */}
        <h2 id="destination-heading">After you decide, you will be sent to</h2>
        <p class="destination">{props.redirectHost}</p>
        <p class="destination-uri">
          <code>{props.redirectUri}</code>
        </p>
      </section>

      {props.localhostOnly ? (
        <div class="warning" role="note" aria-label="Local redirect warning">
          <p>
            <strong>This address is on your own device.</strong>
          </p>
          <p>
            Any program running on this computer could receive the answer. Approve only if you started this
            sign-in yourself just now.
          </p>
        </div>
      ) : null}

      <section class="section" aria-labelledby="access-heading">
        <h2 id="access-heading">It is asking to</h2>
        <p class="resource">
          Access <strong>{resourceLabel}</strong>
          {resourceLabel !== resource.uri ? (
            <>
              {' '}
              <code>{resource.uri}</code>
            </>
          ) : null}
        </p>
        {props.scopes.length > 0 ? (
          <ul class="scopes">
            {props.scopes.map((scope) => (
              <li>
                <span>
                  {scope.description !== undefined && scope.description !== ''
                    ? scope.description
                    : scope.name}
                </span>
                <code>{scope.name}</code>
              </li>
            ))}
          </ul>
        ) : (
          <p class="meta">No specific permissions: basic access only.</p>
        )}
      </section>

      {props.upstreamName !== undefined && props.upstreamName !== '' ? (
        <p class="meta">
          If you approve, you will sign in with <strong>{props.upstreamName}</strong> next.
        </p>
      ) : null}

      <form method="post" action={props.action}>
        <input type="hidden" name="transaction" value={props.transactionId} />
        <input type="hidden" name="csrf" value={props.csrfToken} />
        {props.allowRemember ? (
          <label class="checkbox" for="remember">
            <input type="checkbox" id="remember" name="remember" value="on" />
            <span>Remember my decision for this application</span>
          </label>
        ) : null}
        {/* Deny first: it is the form's default button, so an accidental Enter never approves. */}
        <div class="actions">
          <button type="submit" name="decision" value="deny" class="button button-secondary">
            Deny
          </button>
          <button type="submit" name="decision" value="approve" class="button button-primary">
            Approve
          </button>
        </div>
      </form>
      <p class="fineprint">
        Only approve applications you trust. Client ID: <code>{client.id}</code>
      </p>
    </Layout>
  )
}

/**
 * The consent page as a `Response`. Posts `transaction`, `csrf`, `decision` (`approve` or `deny`)
 * and, when ticked, `remember=on` to `action`. The CSP's `form-action` allows the sanitized
 * `formActionSources`, so the browser may follow the redirect that answers the POST.
 *
 * @see [MCP Security Best Practices, confused deputy](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#confused-deputy-problem) per-client consent showing the redirect
 * @see [RFC 6749 §10.2](https://www.rfc-editor.org/rfc/rfc6749#section-10.2) client impersonation: inform the user
 * @see [RFC 8252 §8.6](https://www.rfc-editor.org/rfc/rfc8252#section-8.6) loopback redirects and client impersonation
 */
export function consentPage(props: ConsentPageProps): Response {
  return htmlResponse(<ConsentPage {...props} />, {
    status: props.status ?? 200,
    formActionSources: props.formActionSources,
  })
}
