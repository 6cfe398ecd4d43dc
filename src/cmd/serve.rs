//! `fab serve`: the review pages, for prosthetists away from the lab. A small web server over the
//! same job database and the same store calls as the command line (login, the queue, a job,
//! approve with the password, request changes): the workflow, the roles and the signature are
//! `fab_ticket::store`'s, not a second implementation.
//!
//! Security: the session is the store's (a random token, kept hashed, expiring) in a cookie that
//! is `HttpOnly; SameSite=Strict`; every form carries a CSRF token (derived from the session
//! token, or a double-submit cookie on the login form); every response carries a
//! Content-Security-Policy that allows no script and no other origin, `nosniff`, `no-referrer`,
//! `frame-ancestors 'none'` and `no-store`; failed logins are limited per client address. URLs
//! carry job numbers only, never a patient reference, and the log line of a request is its
//! method, path and status. Without TLS it listens on loopback only.

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
use fab_ticket::store::{Store, StoreError};
use fab_ticket::workflow::{Status, next_statuses};

use super::job::Db;

/// Arguments of `fab serve`.
#[derive(clap::Args)]
#[command(
    after_help = "Serves the review pages over the job database: log in, the queue, a job's work \
                  order, files and history, approve (the same signature as `fab job approve`) or \
                  request changes. Listens on loopback only."
)]
pub struct Args {
    #[command(flatten)]
    db: Db,
    /// Address to listen on (loopback only: 127.0.0.1 or ::1)
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

/// Failed logins allowed per client address in [`LOGIN_WINDOW`].
const LOGIN_FAILURES: usize = 5;
const LOGIN_WINDOW: Duration = Duration::from_secs(300);
/// A web session's length.
const SESSION_HOURS: u32 = 8;

struct App {
    db: PathBuf,
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

type Shared = Arc<App>;

pub fn run(args: Args) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "fab serve listens on loopback only (127.0.0.1 or ::1), not {}: without TLS the \
             password and the session would cross the network in clear",
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
        eprintln!("fab serve: http://{addr}/ (Ctrl-C stops it)");
        axum::serve(
            listener,
            router(app).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the server stopped")
    })
}

fn router(app: Shared) -> axum::Router {
    axum::Router::new()
        .route("/", get(queue))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/job/{number}", get(job_page))
        .route("/job/{number}/approve", post(approve))
        .route("/job/{number}/changes", post(request_changes))
        .layer(axum::middleware::map_response(secure))
        .layer(axum::middleware::from_fn(log))
        .with_state(app)
}

/// The headers every response carries.
async fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cache-control", "no-store");
    set(h, "cross-origin-opener-policy", "same-origin");
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
.overdue{{color:#b00;font-weight:bold}} .error{{color:#b00}} pre{{white-space:pre-wrap}}</style>
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

async fn login_page() -> Response {
    login_form(StatusCode::OK, None)
}

fn login_form(status: StatusCode, error: Option<&str>) -> Response {
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
        "fab_login={nonce}; HttpOnly; SameSite=Strict; Path=/login"
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
                "fab_session={token}; HttpOnly; SameSite=Strict; Path=/"
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
            let msg = match e {
                StoreError::LoginFailed => "wrong user name or password".to_string(),
                e => e.to_string(),
            };
            login_form(StatusCode::UNAUTHORIZED, Some(&msg))
        }
    }
}

async fn logout(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let r = blocking(move || {
        let (mut store, s) = session(&app, &headers)?;
        if !same(&csrf_of(&s.token), form.get("csrf")?) {
            return None;
        }
        store.logout(&s.token).ok()
    })
    .await;
    let mut resp = to_login();
    if r.is_some() {
        resp.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("fab_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
        );
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
