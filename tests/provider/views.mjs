// Offline HTML pages for the provider.
//
// oidc-provider's built-in pages @import Google Fonts, which fails (and can
// stall page loads) on the offline test machines. Everything here is
// self-contained: inline CSS, no scripts, no external resources, and every
// value that is echoed back is HTML-escaped.

// Sent with every page below; forbids any external fetch. No `form-action`:
// Chromium applies it to the redirect chain after a form POST, which ends at
// the app's (cross-origin) redirect_uri. No `frame-ancestors` either: pages
// may legitimately show up inside the app's hidden renewal iframe.
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'";

export function escapeHtml(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f3f4f6;
         color: #111827; margin: 0; padding: 48px 16px; }
  main { max-width: 340px; margin: 0 auto; background: #fff; border-radius: 8px;
         box-shadow: 0 1px 3px rgba(0,0,0,.15); padding: 24px 28px; }
  h1 { font-size: 1.4em; font-weight: 600; margin: 0 0 4px; }
  p { line-height: 1.4; }
  .muted { color: #6b7280; font-size: .9em; }
  label { display: block; font-size: .9em; margin: 12px 0 4px; }
  input { width: 100%; box-sizing: border-box; font-size: 1em; padding: 8px;
          border: 1px solid #d1d5db; border-radius: 4px; }
  button { width: 100%; margin-top: 16px; padding: 10px; font-size: 1em; font-weight: 600;
           border: 0; border-radius: 4px; background: #2563eb; color: #fff; cursor: pointer; }
  button.secondary { background: #e5e7eb; color: #111827; margin-top: 8px; }
  .error { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; border-radius: 4px;
           padding: 8px 10px; }
  a { color: #2563eb; }
  dl { font-size: .9em; } dt { font-weight: 600; } dd { margin: 0 0 8px; word-break: break-word; }
`;

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Local OpenID Provider</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/**
 * Login form. `error` (if any) is shown above the form; `login` is the
 * previously typed user name, kept so only the password must be retyped.
 */
export function loginPage({ uid, clientName, login = '', error }) {
  const action = `/interaction/${encodeURIComponent(uid)}/login`;
  const abort = `/interaction/${encodeURIComponent(uid)}/abort`;
  return page('Sign in', `
<h1>Sign in</h1>
<p class="muted">to continue to <strong>${escapeHtml(clientName)}</strong></p>
${error ? `<p class="error" id="login-error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}" autocomplete="off">
  <label for="login">Username</label>
  <input id="login" name="login" type="text" value="${escapeHtml(login)}" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password">
  <button type="submit" id="sign-in">Sign in</button>
</form>
<p class="muted">Demo account: <code>demo</code> / <code>demo</code>.
<a href="${escapeHtml(abort)}" id="cancel">Cancel</a></p>`);
}

/**
 * RP-initiated logout confirmation. `form` is the provider-generated
 * `<form id="op.logoutForm">` holding the anti-CSRF token (trusted markup);
 * the buttons submit it via their `form` attribute.
 */
export function logoutPage({ form, clientName }) {
  return page('Sign out', `
<h1>Sign out</h1>
<p>Sign out of the Local OpenID Provider${clientName ? ` and <strong>${escapeHtml(clientName)}</strong>` : ''}?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout-yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary" id="logout-no">No, stay signed in</button>`);
}

/** Shown after a logout that had no post_logout_redirect_uri. */
export function loggedOutPage({ clientName }) {
  return page('Signed out', `
<h1>Signed out</h1>
<p>You have been signed out${clientName ? ` of <strong>${escapeHtml(clientName)}</strong>` : ''}.
You can close this page.</p>`);
}

/** Error page; `details` is a flat object of strings (error, error_description, ...). */
export function errorPage({ title = 'Something went wrong', details }) {
  const rows = Object.entries(details)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('\n');
  return page(title, `
<h1>${escapeHtml(title)}</h1>
<dl id="error-details">
${rows}
</dl>
<p class="muted">Return to the application and try again.</p>`);
}
