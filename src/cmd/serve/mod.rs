//! `fab serve`: the review pages, for prosthetists away from the lab. A small web server over the
//! same job database and the same store calls as the command line (login, the queue, a job,
//! approve with the password, request changes): the workflow, the roles and the signature are
//! `fab_ticket::store`'s, not a second implementation. A job's page shows each design in 3D
//! (three.js, vendored in `assets/three`, driven by `assets/serve/view3d.js`), coloured by its
//! depth against the scan it was planned from ([`view`]), with the setup sheet and the preview
//! that `fab plan` wrote beside it.
//!
//! Security: the session is the store's (a random token, kept hashed, expiring) in a cookie that
//! is `HttpOnly; SameSite=Strict` (and `Secure` under TLS); every form carries a CSRF token
//! (derived from the session token, or a double-submit cookie on the login form); every response
//! carries a Content-Security-Policy that allows scripts from this server only (files, never
//! inline) and no other origin, `nosniff`, `no-referrer`, `frame-ancestors 'none'` and
//! `no-store` (the static scripts excepted); failed logins are limited per client address. URLs
//! carry job numbers and sides only, never a patient reference, and the log line of a request is
//! its method, path and status. Without TLS (`--tls-cert`, `--tls-key`: rustls) it listens on
//! loopback only.

pub mod view;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::extract::{ConnectInfo, Form, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fab_ticket::auth::sha256_hex;
use fab_ticket::store::FileRecord;
use fab_ticket::store::{Store, StoreError};
use fab_ticket::workflow::{Status, next_statuses};

use super::job::Db;

/// Arguments of `fab serve`.
#[derive(clap::Args)]
#[command(
    after_help = "Serves the review pages over the job database: log in, the queue, a job's work \
                  order, design in 3D, setup sheet, files and history, approve (the same \
                  signature as `fab job approve`) or request changes. Listens on loopback only \
                  unless it serves HTTPS (--tls-cert and --tls-key)."
)]
pub struct Args {
    #[command(flatten)]
    db: Db,
    /// Address to listen on (without TLS loopback only: 127.0.0.1 or ::1)
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first)
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Failed logins allowed per client address in [`LOGIN_WINDOW`].
const LOGIN_FAILURES: usize = 5;
const LOGIN_WINDOW: Duration = Duration::from_secs(300);
/// A web session's length.
const SESSION_HOURS: u32 = 8;

struct App {
    db: PathBuf,
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
    /// Served over TLS: cookies are `Secure`, responses carry HSTS.
    tls: bool,
    views: Mutex<Views>,
}

/// 3D views made (encoded), by the SHA-256 of the design and of its scan.
type Views = HashMap<(String, String), Arc<Vec<u8>>>;

/// 3D views kept in memory at most (a few hundred kB each).
const VIEWS_KEPT: usize = 32;

type Shared = Arc<App>;

pub fn run(args: Args) -> anyhow::Result<()> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls_config(cert, key)?),
        _ => None,
    };
    if tls.is_none() && !args.listen.ip().is_loopback() {
        bail!(
            "fab serve listens on loopback only (127.0.0.1 or ::1) without TLS, not {}: the \
             password and the session would cross the network in clear; give --tls-cert and \
             --tls-key to serve HTTPS beyond this machine",
            args.listen
        );
    }
    let db = args.db.path()?;
    Store::open(&db)?; // refuse a missing, empty or foreign database before listening
    // a client gone mid-response, or a closed stderr, is an error to handle, not a signal
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to ignore, before the runtime's threads start
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let app = Arc::new(App {
        db,
        failures: Mutex::new(HashMap::new()),
        tls: tls.is_some(),
        views: Mutex::new(HashMap::new()),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
        match tls {
            None => {
                eprintln!("fab serve: http://{addr}/ (Ctrl-C stops it)");
                axum::serve(listener, service)
                    .with_graceful_shutdown(async {
                        let _ = tokio::signal::ctrl_c().await;
                    })
                    .await
                    .context("the server stopped")
            }
            Some(config) => {
                eprintln!("fab serve: https://{addr}/ (Ctrl-C stops it)");
                let handle = axum_server::Handle::new();
                let stop = handle.clone();
                tokio::spawn(async move {
                    let _ = tokio::signal::ctrl_c().await;
                    stop.graceful_shutdown(Some(Duration::from_secs(10)));
                });
                axum_server::from_tcp_rustls(listener.into_std()?, config)
                    .context("cannot serve on the listening socket")?
                    .handle(handle)
                    .serve(service)
                    .await
                    .context("the server stopped")
            }
        }
    })
}

/// The server's TLS set-up from PEM files: rustls with the aws-lc-rs provider (its default key exchange includes post-quantum X25519MLKEM768), TLS 1.2 and 1.3.
fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<axum_server::tls_rustls::RustlsConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read = |p: &std::path::Path, what: &str| {
        std::fs::read(p).with_context(|| format!("cannot read {what} {}", p.display()))
    };
    let pem = read(cert, "--tls-cert")?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("--tls-cert {}: not PEM certificates: {e}", cert.display()))?;
    if chain.is_empty() {
        bail!(
            "--tls-cert {}: no certificate in it (a PEM file with -----BEGIN CERTIFICATE-----)",
            cert.display()
        );
    }
    let pem = read(key, "--tls-key")?;
    let key_der = PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
        anyhow::anyhow!(
            "--tls-key {}: no private key in it (a PEM file with -----BEGIN PRIVATE KEY-----, \
             RSA PRIVATE KEY or EC PRIVATE KEY)",
            key.display()
        )
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS set-up")?
    .with_no_client_auth()
    .with_single_cert(chain, key_der)
    .map_err(|e| {
        anyhow::anyhow!(
            "--tls-cert {} and --tls-key {} do not make a usable certificate: {e}",
            cert.display(),
            key.display()
        )
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(config),
    ))
}

fn router(app: Shared) -> axum::Router {
    axum::Router::new()
        .route("/", get(queue))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/job/{number}", get(job_page))
        .route("/job/{number}/approve", post(approve))
        .route("/job/{number}/changes", post(request_changes))
        .route("/job/{number}/design/{side}/mesh", get(design_mesh))
        .route("/job/{number}/design/{side}/sheet", get(design_sheet))
        .route(
            "/job/{number}/design/{side}/preview.png",
            get(design_preview),
        )
        .route("/static/{file}", get(asset))
        .layer(axum::middleware::map_response_with_state(
            app.clone(),
            secure,
        ))
        .layer(axum::middleware::from_fn(log))
        .with_state(app)
}

/// The headers every response carries.
async fn secure(State(app): State<Shared>, mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; connect-src 'self'; \
         style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    // pages carry patient data: never kept; the static scripts say otherwise themselves
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    if app.tls {
        set(h, "strict-transport-security", "max-age=31536000");
    }
    r
}

/// The static files: the vendored three.js with its licence, and the 3D viewer.
async fn asset(UrlPath(file): UrlPath<String>) -> Response {
    const JS: &str = "text/javascript; charset=utf-8";
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "three.module.min.js" => (
            include_bytes!("../../../assets/three/three.module.min.js"),
            JS,
        ),
        "three-LICENSE.txt" => (
            include_bytes!("../../../assets/three/LICENSE"),
            "text/plain; charset=utf-8",
        ),
        "view3d.js" => (include_bytes!("../../../assets/serve/view3d.js"), JS),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(kind).unwrap_or(HeaderValue::from_static("text/plain")),
    );
    // the same binary serves the same bytes: an hour in the browser's cache, revalidated after
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    r
}

/// One line per request: method, path (job numbers only), status. No query, no form, no cookie.
async fn log(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let r = next.run(req).await;
    // a closed stderr does not stop the server
    let _ = writeln!(std::io::stderr(), "{method} {path} {}", r.status().as_u16());
    r
}

// ----- sessions, CSRF -----

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The CSRF token of a session: derived from its secret token, so only its holder knows it.
fn csrf_of(token: &str) -> String {
    sha256_hex(format!("fab csrf {token}").as_bytes())
}

/// Compares secrets in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

struct Session {
    user: String,
    token: String,
}

fn session(app: &App, headers: &HeaderMap) -> Option<(Store, Session)> {
    let token = cookie(headers, "fab_session")?.to_string();
    let store = Store::open(&app.db).ok()?;
    let user = store.session_user(&token).ok()?.name;
    Some((store, Session { user, token }))
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a request handler panicked")
}

// ----- pages -----

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn page(status: StatusCode, title: &str, who: Option<(&str, &str)>, body: &str) -> Response {
    let bar = match who {
        Some((user, csrf)) => format!(
            r#"<nav><a href="/">Queue</a> <span>{}</span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{csrf}"><button>Log out</button></form></nav>"#,
            esc(user)
        ),
        None => String::new(),
    };
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{} - fab</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}}
nav{{display:flex;gap:1em;align-items:center}} nav form{{margin-left:auto}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}
.overdue{{color:#b00;font-weight:bold}} .error{{color:#b00}} pre{{white-space:pre-wrap}}
.view3d{{border:1px solid #ccc;margin:.5em 0}} .view3d p{{margin:.3em .5em}}
.legend{{padding:.3em .5em;font-size:.9em}} img.preview{{max-width:100%;border:1px solid #ccc}}</style>
</head><body>{bar}<h1>{}</h1>{body}</body></html>"#,
        esc(title),
        esc(title)
    );
    let mut r = (status, html).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

async fn login_page(State(app): State<Shared>) -> Response {
    login_form(app.tls, StatusCode::OK, None)
}

/// The cookie attribute that keeps a cookie off plain HTTP, under TLS.
fn secure_flag(tls: bool) -> &'static str {
    if tls { "; Secure" } else { "" }
}

fn login_form(tls: bool, status: StatusCode, error: Option<&str>) -> Response {
    let nonce = match fab_ticket::auth::new_token() {
        Ok(t) => t,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let error = error
        .map(|e| format!(r#"<p class="error" id="error">{}</p>"#, esc(e)))
        .unwrap_or_default();
    let body = format!(
        r#"{error}<form method="post" action="/login" id="login">
<input type="hidden" name="csrf" value="{nonce}">
<p><label>User <input name="name" id="name" autocomplete="username" required></label></p>
<p><label>Password <input type="password" name="password" id="password" autocomplete="current-password" required></label></p>
<p><button id="login-button">Log in</button></p></form>"#
    );
    let mut r = page(status, "Log in", None, &body);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "fab_login={nonce}; HttpOnly; SameSite=Strict; Path=/login{}",
        secure_flag(tls)
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn login(
    State(app): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let sent = field("csrf");
    if !cookie(&headers, "fab_login").is_some_and(|c| !sent.is_empty() && same(c, &sent)) {
        return login_form(
            app.tls,
            StatusCode::FORBIDDEN,
            Some("the form expired: log in again"),
        );
    }
    let ip = peer.ip();
    {
        let mut f = app.failures.lock().unwrap_or_else(|e| e.into_inner());
        let recent = f.entry(ip).or_default();
        recent.retain(|t| t.elapsed() < LOGIN_WINDOW);
        if recent.len() >= LOGIN_FAILURES {
            return login_form(
                app.tls,
                StatusCode::TOO_MANY_REQUESTS,
                Some("too many failed logins from here: wait a few minutes"),
            );
        }
    }
    let (name, password) = (field("name"), field("password"));
    let db = app.db.clone();
    let result = blocking(move || {
        Store::open(&db).and_then(|mut s| s.login(&name, &password, SESSION_HOURS))
    })
    .await;
    match result {
        Ok((token, _)) => {
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "fab_session={token}; HttpOnly; SameSite=Strict; Path=/{}",
                secure_flag(app.tls)
            )) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            if matches!(e, StoreError::LoginFailed) {
                let mut f = app.failures.lock().unwrap_or_else(|e| e.into_inner());
                f.entry(ip).or_default().push(Instant::now());
            }
            let (status, msg) = match e {
                StoreError::LoginFailed => (
                    StatusCode::UNAUTHORIZED,
                    "wrong user name or password".to_string(),
                ),
                // the store's limit per login name, the command line's too
                e @ StoreError::LoginLimited { .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, e.to_string())
                }
                e => (StatusCode::UNAUTHORIZED, e.to_string()),
            };
            login_form(app.tls, status, Some(&msg))
        }
    }
}

async fn logout(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let tls = app.tls;
    let r = blocking(move || {
        let (mut store, s) = session(&app, &headers)?;
        if !same(&csrf_of(&s.token), form.get("csrf")?) {
            return None;
        }
        store.logout(&s.token).ok()
    })
    .await;
    let mut resp = to_login();
    if r.is_some()
        && let Ok(v) = HeaderValue::from_str(&format!(
            "fab_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
            secure_flag(tls)
        ))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

async fn queue(State(app): State<Shared>, headers: HeaderMap) -> Response {
    blocking(move || {
        let Some((store, s)) = session(&app, &headers) else {
            return to_login();
        };
        let list = match store.list(None) {
            Ok(l) => l,
            Err(e) => return page(StatusCode::INTERNAL_SERVER_ERROR, "Queue", None, &esc(&e.to_string())),
        };
        let today = &fab_ticket::store::now()[..10];
        let mut body = String::new();
        for status in Status::ALL {
            let jobs: Vec<_> = list.jobs.iter().filter(|j| j.status == status).collect();
            if jobs.is_empty() || status.is_closed() {
                continue;
            }
            let _ = write!(
                body,
                "<h2>{status} ({})</h2><table><tr><th>Job</th><th>Kind</th><th>Due</th><th>Updated</th></tr>",
                jobs.len()
            );
            for j in jobs {
                let due = j.due.as_deref().unwrap_or("-");
                let overdue = j.due.as_deref().is_some_and(|d| d < today);
                let _ = write!(
                    body,
                    r#"<tr><td><a href="/job/{n}">{n}</a></td><td>{}</td><td{}>{}{}</td><td>{}</td></tr>"#,
                    j.kind.as_str(),
                    if overdue { r#" class="overdue""# } else { "" },
                    esc(due),
                    if overdue { " (overdue)" } else { "" },
                    esc(&j.updated_at),
                    n = esc(&j.number),
                );
            }
            body.push_str("</table>");
        }
        if list.jobs.is_empty() {
            body.push_str("<p>No jobs.</p>");
        }
        for u in &list.unreadable {
            let _ = write!(
                body,
                r#"<p class="error">Job {}: its stored {} cannot be read.</p>"#,
                esc(&u.number),
                esc(&u.what)
            );
        }
        page(StatusCode::OK, "Queue", Some((&s.user, &csrf_of(&s.token))), &body)
    })
    .await
}

fn job_html(store: &Store, s: &Session, number: &str, notice: Option<&str>) -> Response {
    let csrf = csrf_of(&s.token);
    let rec = match store.job(number) {
        Ok(r) => r,
        Err(e) => {
            return page(
                StatusCode::NOT_FOUND,
                "Job",
                Some((&s.user, &csrf)),
                &format!(r#"<p class="error">{}</p>"#, esc(&e.to_string())),
            );
        }
    };
    let tables = store
        .tables()
        .unwrap_or_else(|_| fab_ticket::Tables::bundled());
    let mut b = String::new();
    if let Some(n) = notice {
        let _ = write!(b, r#"<p class="error" id="notice">{}</p>"#, esc(n));
    }
    let _ = write!(
        b,
        r#"<p>Status: <b id="status">{}</b> &middot; {} &middot; created {} by {}</p>
<p>Patient: {} &middot; Practitioner: {}</p>"#,
        rec.status,
        rec.kind,
        esc(&rec.created_at),
        esc(&rec.created_by),
        esc(rec.patient()),
        esc(&rec.rx.practitioner)
    );
    if !rec.rx.notes.is_empty() {
        b.push_str("<p>Notes:</p><ul>");
        for n in &rec.rx.notes {
            let _ = write!(b, "<li>{}</li>", esc(n));
        }
        b.push_str("</ul>");
    }
    let _ = write!(
        b,
        "<h2>Work order</h2><pre>{}</pre>",
        esc(&rec.work_order(&tables).to_string())
    );
    b.push_str(
        "<h2>Files</h2><table><tr><th>Kind</th><th>Side</th><th>File</th><th>SHA-256</th></tr>",
    );
    for f in &rec.files {
        let name = std::path::Path::new(&f.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&f.kind),
            esc(f.side.as_deref().unwrap_or("")),
            esc(&name),
            esc(&f.sha256)
        );
    }
    b.push_str("</table>");
    let shown = designs(&rec.files);
    for (side, f) in &shown {
        let side = side.as_str();
        let n = esc(&rec.number);
        let _ = write!(
            b,
            r#"<h2>{}</h2>
<div class="view3d" id="view-{side}" data-mesh="/job/{n}/design/{side}/mesh"><p class="view-status">The 3D view of the design needs JavaScript.</p></div>"#,
            match side {
                "left" => "Design, left foot".to_string(),
                "right" => "Design, right foot".to_string(),
                "part" => "Design".to_string(),
                other => format!("Design ({other})"),
            }
        );
        let sheet = beside(&f.path, "-setup.html").filter(|p| p.is_file());
        let preview = beside(&f.path, "-preview.png").filter(|p| p.is_file());
        if sheet.is_some() {
            let _ = write!(
                b,
                r#"<p><a id="sheet-{side}" href="/job/{n}/design/{side}/sheet">Setup sheet</a> (as <code>fab plan</code> wrote it, for the operator)</p>"#
            );
        }
        if sheet.is_some() && preview.is_some() {
            let _ = write!(
                b,
                r#"<p><img class="preview" id="preview-{side}" src="/job/{n}/design/{side}/preview.png" alt="The program's preview: the toolpaths over the design, seen from above"></p>"#
            );
        }
        if sheet.is_none() {
            b.push_str("<p>No setup sheet beside this design (it was not planned by <code>fab plan</code> here).</p>");
        }
    }
    if !shown.is_empty() {
        b.push_str(
            r#"<p><small>3D view: <a href="/static/three-LICENSE.txt">three.js</a> (MIT licence).</small></p>
<script type="module" src="/static/view3d.js"></script>"#,
        );
    }
    let can_review = next_statuses(rec.status, rec.hold_from).contains(&Status::Approved);
    if can_review {
        match store.to_sign(number) {
            Ok(items) => {
                b.push_str(r#"<h2>Approve for milling</h2><p>Signing, with your password:</p><ul id="to-sign">"#);
                for i in &items {
                    let side = i
                        .side
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default();
                    let _ = write!(
                        b,
                        "<li>{}{} <code>{}</code></li>",
                        esc(&i.kind),
                        esc(&side),
                        esc(&i.sha256)
                    );
                }
                let _ = write!(
                    b,
                    r#"</ul><form method="post" action="/job/{n}/approve" id="approve">
<input type="hidden" name="csrf" value="{csrf}">
<p><label>Your password <input type="password" name="password" id="sign-password" autocomplete="current-password" required></label></p>
<p><label>Note <input name="note" id="approve-note"></label></p>
<p><button id="approve-button">Sign: approved for milling</button></p></form>"#,
                    n = esc(&rec.number)
                );
            }
            Err(e) => {
                let _ = write!(
                    b,
                    r#"<p class="error" id="cannot-approve">{}</p>"#,
                    esc(&e.to_string())
                );
            }
        }
        let _ = write!(
            b,
            r#"<h2>Request changes</h2><form method="post" action="/job/{n}/changes" id="changes">
<input type="hidden" name="csrf" value="{csrf}">
<p><label>What to change <input name="note" id="changes-note" required></label></p>
<p><button id="changes-button">Send back to designing</button></p></form>"#,
            n = esc(&rec.number)
        );
    }
    b.push_str(r#"<h2>History</h2><table id="history"><tr><th>When</th><th>Who</th><th>Change</th><th>Note</th></tr>"#);
    if let Ok(h) = store.history(number) {
        for e in h {
            let change = match (e.action.as_str(), e.from, e.to) {
                ("status", Some(f), Some(t)) => format!("{f} -> {t}"),
                ("created", _, Some(t)) => format!("created ({t})"),
                (a, _, _) => a.to_string(),
            };
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td></tr>",
                esc(&e.at),
                esc(&e.actor),
                e.role,
                esc(&change),
                esc(e.note.as_deref().unwrap_or(""))
            );
        }
    }
    b.push_str("</table>");
    page(
        StatusCode::OK,
        &format!("Job {}", rec.number),
        Some((&s.user, &csrf)),
        &b,
    )
}

async fn job_page(
    State(app): State<Shared>,
    UrlPath(number): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        let Some((store, s)) = session(&app, &headers) else {
            return to_login();
        };
        job_html(&store, &s, &number, None)
    })
    .await
}

/// Runs a change for the session's user after checking the form's CSRF token; shows the job
/// with the refusal, or goes back to it.
async fn change(
    app: Shared,
    headers: HeaderMap,
    number: String,
    form: HashMap<String, String>,
    f: impl FnOnce(&mut Store, &str, &HashMap<String, String>) -> Result<(), StoreError>
    + Send
    + 'static,
) -> Response {
    blocking(move || {
        let Some((mut store, s)) = session(&app, &headers) else {
            return to_login();
        };
        let ok_csrf = form
            .get("csrf")
            .is_some_and(|c| same(c, &csrf_of(&s.token)));
        if !ok_csrf {
            let mut r = job_html(&store, &s, &number, Some("the form expired: try again"));
            *r.status_mut() = StatusCode::FORBIDDEN;
            return r;
        }
        match f(&mut store, &s.user, &form) {
            Ok(()) => Redirect::to(&format!("/job/{}", number.trim().to_ascii_uppercase()))
                .into_response(),
            Err(e) => {
                let mut r = job_html(&store, &s, &number, Some(&e.to_string()));
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                r
            }
        }
    })
    .await
}

async fn approve(
    State(app): State<Shared>,
    UrlPath(number): UrlPath<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let job = number.clone();
    change(app, headers, number, form, move |store, user, form| {
        let password = form.get("password").map(String::as_str).unwrap_or("");
        let note = form.get("note").map(|n| n.trim()).filter(|n| !n.is_empty());
        store.approve(&job, user, password, note).map(|_| ())
    })
    .await
}

async fn request_changes(
    State(app): State<Shared>,
    UrlPath(number): UrlPath<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let job = number.clone();
    change(app, headers, number, form, move |store, user, form| {
        let note = form.get("note").map(|n| n.trim()).unwrap_or("");
        if note.is_empty() {
            return Err(StoreError::Locked {
                job: job.clone(),
                reason: "say what to change".into(),
            });
        }
        store
            .advance(&job, Status::Designing, user, Some(note))
            .map(|_| ())
    })
    .await
}

// ----- the design: 3D view, setup sheet, preview -----

/// The job's current design for each side (the last attached), named as in URLs: `left`,
/// `right`, any other side by its word (as `pair`), and `part` for one with no side.
fn designs(files: &[FileRecord]) -> Vec<(String, &FileRecord)> {
    let mut sides: Vec<Option<&str>> = vec![Some("left"), Some("right")];
    for f in files.iter().filter(|f| f.kind == "design") {
        if !sides.contains(&f.side.as_deref()) {
            sides.push(f.side.as_deref());
        }
    }
    sides.sort_by_key(|s| s.is_none());
    sides
        .into_iter()
        .filter_map(|side| {
            let f = files
                .iter()
                .rev()
                .find(|f| f.kind == "design" && f.side.as_deref() == side)?;
            let word = match side {
                None => "part",
                Some("part") => return None,
                Some(s)
                    if !s.is_empty()
                        && s.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
                {
                    s
                }
                Some(_) => return None,
            };
            Some((word.to_string(), f))
        })
        .collect()
}

/// The file `fab plan` wrote beside a design `OUT-design.stl`: `OUT{suffix}`.
fn beside(design: &str, suffix: &str) -> Option<PathBuf> {
    let p = std::path::Path::new(design);
    let name = p.file_name()?.to_str()?;
    let stem = name.strip_suffix("-design.stl")?;
    Some(p.with_file_name(format!("{stem}{suffix}")))
}

/// A plain-text answer (what the viewer shows when it cannot draw).
fn text(status: StatusCode, msg: &str) -> Response {
    let mut r = (status, msg.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn with_type(body: Vec<u8>, kind: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r
}

/// A file of the job, read and checked against the SHA-256 it was attached with. The message
/// names the file by what it is, never by its path.
fn read_attached(f: &FileRecord, what: &str) -> Result<Vec<u8>, Response> {
    let bytes = std::fs::read(&f.path).map_err(|_| {
        text(
            StatusCode::NOT_FOUND,
            &format!("the {what} file cannot be read on the server"),
        )
    })?;
    if sha256_hex(&bytes) != f.sha256 {
        return Err(text(
            StatusCode::CONFLICT,
            &format!("the {what} file has changed since it was attached to the job: not shown"),
        ));
    }
    Ok(bytes)
}

/// The session's job and its design for `side`, or the answer to give instead.
fn design_of(
    app: &App,
    headers: &HeaderMap,
    number: &str,
    side: &str,
) -> Result<(fab_ticket::store::JobRecord, FileRecord), Response> {
    let Some((store, _)) = session(app, headers) else {
        return Err(text(StatusCode::UNAUTHORIZED, "log in again"));
    };
    let rec = store
        .job(number)
        .map_err(|e| text(StatusCode::NOT_FOUND, &e.to_string()))?;
    let f = designs(&rec.files)
        .into_iter()
        .find(|(w, _)| w == side)
        .map(|(_, f)| f.clone())
        .ok_or_else(|| {
            text(
                StatusCode::NOT_FOUND,
                &format!("job {} has no design for {side}", rec.number),
            )
        })?;
    Ok((rec, f))
}

async fn design_mesh(
    State(app): State<Shared>,
    UrlPath((number, side)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        let (rec, design) = match design_of(&app, &headers, &number, &side) {
            Ok(x) => x,
            Err(r) => return r,
        };
        let design_bytes = match read_attached(&design, "design") {
            Ok(b) => b,
            Err(r) => return r,
        };
        let scan = design.scan_sha256.as_ref().and_then(|sha| {
            rec.files
                .iter()
                .rev()
                .find(|f| f.kind == "scan" && &f.sha256 == sha)
        });
        let key = (
            design.sha256.clone(),
            scan.map(|f| f.sha256.clone()).unwrap_or_default(),
        );
        let kept = app
            .views
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let bytes = match kept {
            Some(b) => b,
            None => {
                let several = design
                    .scan_sha256
                    .as_deref()
                    .is_some_and(|s| s.contains(','));
                let made = match make_view(&design_bytes, scan, several) {
                    Ok(v) => Arc::new(view::encode(&v)),
                    Err(r) => return r,
                };
                let mut views = app.views.lock().unwrap_or_else(|e| e.into_inner());
                if views.len() >= VIEWS_KEPT {
                    views.clear();
                }
                views.insert(key, made.clone());
                made
            }
        };
        with_type(bytes.to_vec(), "application/octet-stream")
    })
    .await
}

/// The design's view, coloured by depth where its scan is known and fab can line it up.
fn make_view(
    design: &[u8],
    scan: Option<&FileRecord>,
    several: bool,
) -> Result<view::View, Response> {
    use fab_geometry::Units;
    let mesh = fab_geometry::load_bytes(design, Units::Mm)
        .map_err(|_| {
            text(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the design file is not a mesh fab can read",
            )
        })?
        .mesh;
    if several {
        return Ok(view::plain(
            &mesh,
            "A design made from several scans: shown without depth.",
        ));
    }
    let Some(scan) = scan else {
        return Ok(view::plain(
            &mesh,
            "No scan is recorded for this design (attached by hand, not planned by fab plan): \
             shown without depth.",
        ));
    };
    let scan_bytes = match read_attached(scan, "scan") {
        Ok(b) => b,
        Err(_) => {
            return Ok(view::plain(
                &mesh,
                "The scan this design was planned from cannot be read, or has changed since: \
                 shown without depth.",
            ));
        }
    };
    let Ok(loaded) = fab_geometry::load_bytes(&scan_bytes, Units::Auto) else {
        return Ok(view::plain(
            &mesh,
            "The scan cannot be read as a mesh: shown without depth.",
        ));
    };
    let topo = fab_geometry::topology::report(&loaded.mesh);
    if fab_geometry::kind::classify(&loaded.mesh, &topo).kind == fab_geometry::kind::ScanKind::Limb
    {
        return Ok(view::plain(
            &mesh,
            "A socket positive: its depth against the scan is on the setup sheet's unrolled \
             picture; shown here without it.",
        ));
    }
    Ok(view::foot(&mesh, &loaded.mesh).unwrap_or_else(|e| view::plain(&mesh, &sentence(&e))))
}

/// An error's message as a sentence for the page: capital first, full stop last.
fn sentence(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    let mut c = s.chars();
    match c.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), c.as_str()),
        None => s,
    }
}

/// The setup sheet beside the design, if it is the sheet of a program attached to the job (it
/// names the program's SHA-256).
fn sheet_of(rec: &fab_ticket::store::JobRecord, design: &FileRecord) -> Result<Vec<u8>, Response> {
    let missing = || {
        text(
            StatusCode::NOT_FOUND,
            "no setup sheet beside this design on the server",
        )
    };
    let path = beside(&design.path, "-setup.html").ok_or_else(missing)?;
    let sheet = std::fs::read(path).map_err(|_| missing())?;
    let text_of = String::from_utf8_lossy(&sheet);
    let names_a_program = rec.files.iter().any(|f| {
        f.kind == "program" && f.side == design.side && text_of.contains(f.sha256.as_str())
    });
    if !names_a_program {
        return Err(text(
            StatusCode::CONFLICT,
            "the setup sheet beside this design is not the sheet of a program attached to the \
             job: not shown",
        ));
    }
    Ok(sheet)
}

async fn design_sheet(
    State(app): State<Shared>,
    UrlPath((number, side)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        match design_of(&app, &headers, &number, &side).and_then(|(rec, d)| sheet_of(&rec, &d)) {
            Ok(sheet) => with_type(sheet, "text/html; charset=utf-8"),
            Err(r) => r,
        }
    })
    .await
}

async fn design_preview(
    State(app): State<Shared>,
    UrlPath((number, side)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        let (rec, design) = match design_of(&app, &headers, &number, &side) {
            Ok(x) => x,
            Err(r) => return r,
        };
        let sheet = match sheet_of(&rec, &design) {
            Ok(s) => s,
            Err(r) => return r,
        };
        let Some(png) = beside(&design.path, "-preview.png").and_then(|p| std::fs::read(p).ok())
        else {
            return text(
                StatusCode::NOT_FOUND,
                "no preview beside this design on the server",
            );
        };
        // the preview the sheet embeds, byte for byte
        let embedded = crate::plan::setup_sheet::base64(&png);
        if !String::from_utf8_lossy(&sheet).contains(&embedded) {
            return text(
                StatusCode::CONFLICT,
                "the preview beside this design is not the one its setup sheet shows: not shown",
            );
        }
        with_type(png, "image/png")
    })
    .await
}
